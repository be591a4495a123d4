// Command lars-echo is the baseline UDP server: it returns every datagram to its
// sender unchanged through the same batched recvmmsg/sendmmsg I/O as lars-agent. Load
// it like an agent to learn the fastest any server could answer on the machine.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/echo"
)

func main() {
	fs := flag.NewFlagSet("lars-echo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8888", "UDP address to echo on")
	sockets := fs.Int("sockets", 1, "SO_REUSEPORT sockets (one goroutine each)")
	batch := fs.Int("batch", batchio.DefaultBatchSize, "datagrams per recvmmsg/sendmmsg call")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if *sockets < 1 || *batch < 1 {
		fmt.Fprintln(os.Stderr, "lars-echo: -sockets and -batch must be at least 1")
		os.Exit(2)
	}
	srv, err := echo.Start(*addr, *sockets, *batch)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lars-echo: %v\n", err)
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "lars-echo: echoing on %s\n", srv.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	srv.Close()
}
