package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/echo"
)

// Exit codes.
const (
	exitOK    = 0
	exitUsage = 2
)

// options are the command-line flags.
type options struct {
	addr, ports, wait string
	sockets, batch    int
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("lars-echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8888", "UDP address to echo on")
	fs.StringVar(&o.ports, "ports", "", "comma-separated UDP ports to echo on, on the host of -addr, like lars-agent's -ports (default the port of -addr)")
	fs.IntVar(&o.sockets, "sockets", 1, "SO_REUSEPORT sockets (one goroutine each) per port")
	fs.IntVar(&o.batch, "batch", batchio.DefaultBatchSize, "datagrams per recvmmsg/sendmmsg call")
	fs.StringVar(&o.wait, "wait", batchio.WaitBlocking.String(), "how serving goroutines wait for datagrams: block (a thread blocked in recvmmsg per socket; GOMAXPROCS is raised to the sockets + 1 unless the GOMAXPROCS variable is set) or poll (Go's netpoller)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.sockets < 1 || o.batch < 1 {
		return nil, errors.New("-sockets and -batch must be at least 1")
	}
	return o, nil
}

// addrs returns the addresses to echo on: -addr, or its host on each of -ports.
func (o *options) addrs() ([]string, error) {
	if o.ports == "" {
		return []string{o.addr}, nil
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return nil, fmt.Errorf("invalid -addr %q: %w", o.addr, err)
	}
	var addrs []string
	for _, f := range strings.Split(o.ports, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("invalid -ports %q: want comma-separated ports in 0..65535", o.ports)
		}
		addrs = append(addrs, net.JoinHostPort(host, strconv.Itoa(p)))
	}
	return addrs, nil
}

// run echoes until a signal arrives on signals and returns the exit code.
func run(args []string, stderr io.Writer, signals <-chan os.Signal) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "lars-echo: %v\n", err)
		return exitUsage
	}
	wait, err := batchio.ParseWait(o.wait)
	if err != nil {
		fmt.Fprintf(stderr, "lars-echo: -wait: %v\n", err)
		return exitUsage
	}
	addrs, err := o.addrs()
	if err != nil {
		fmt.Fprintf(stderr, "lars-echo: %v\n", err)
		return exitUsage
	}
	if wait == batchio.WaitBlocking && os.Getenv("GOMAXPROCS") == "" {
		batchio.ReserveProcs(len(addrs) * o.sockets)
	}
	var servers []*echo.Server
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	for _, addr := range addrs {
		srv, err := echo.Listen(echo.Config{Addr: addr, Sockets: o.sockets, Batch: o.batch, Wait: wait})
		if err != nil {
			fmt.Fprintf(stderr, "lars-echo: %v\n", err)
			return exitUsage
		}
		servers = append(servers, srv)
		fmt.Fprintf(stderr, "lars-echo: echoing on %s (wait %s)\n", srv.Addr(), wait)
	}
	<-signals
	return exitOK
}
