// Command lars-agent is the Lars load-balancing agent: it answers get_host, report and
// get_route datagrams from business code, with routes from a routes file or the Lars
// route service, and sends call statistics to the Lars report service.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	os.Exit(run(os.Args[1:], os.Stderr, sig))
}
