// Command lars-echo is the baseline UDP server: it returns every datagram to its
// sender unchanged through the same batched recvmmsg/sendmmsg I/O as lars-agent. Load
// it like an agent to learn the fastest any server could answer on the machine.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stderr, sig))
}
