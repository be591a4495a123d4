package batchio

import (
	"fmt"
	"runtime"
)

// Wait selects how a serving goroutine waits for datagrams. Its zero value is
// WaitBlocking, the default of the servers built on this package.
type Wait int

const (
	// WaitBlocking blocks the serving goroutine's thread in recvmmsg on a socket
	// outside the netpoller (see ListenBlocking): the kernel wakes the thread that
	// serves the socket directly, with no EAGAIN round and no netpoller hand-off.
	WaitBlocking Wait = iota
	// WaitPoll parks the goroutine in Go's netpoller when the socket is empty (see
	// NewConn), as net.UDPConn does: no thread is held while the socket is idle.
	WaitPoll
)

// Valid reports whether w is one of the modes above.
func (w Wait) Valid() bool { return w == WaitBlocking || w == WaitPoll }

// String returns the name ParseWait takes.
func (w Wait) String() string {
	switch w {
	case WaitBlocking:
		return "block"
	case WaitPoll:
		return "poll"
	}
	return fmt.Sprintf("Wait(%d)", int(w))
}

// ParseWait parses a Wait name: "block" or "poll".
func ParseWait(s string) (Wait, error) {
	switch s {
	case "block":
		return WaitBlocking, nil
	case "poll":
		return WaitPoll, nil
	}
	return 0, fmt.Errorf("unknown wait mode %q: want block or poll", s)
}

// Listen opens a UDP socket on addr with opts and returns it as a Conn that waits for
// datagrams as w says: ListenBlocking for WaitBlocking, ListenUDP and NewConn for
// WaitPoll.
func Listen(network, addr string, opts ListenOptions, w Wait) (*Conn, error) {
	switch w {
	case WaitBlocking:
		return ListenBlocking(network, addr, opts)
	case WaitPoll:
		return listenPoll(network, addr, opts)
	}
	return nil, fmt.Errorf("cannot listen on %s: unknown wait mode %d", addr, int(w))
}

// listenPoll returns a Conn on a ListenUDP socket, waiting in the netpoller.
func listenPoll(network, addr string, opts ListenOptions) (*Conn, error) {
	uc, err := ListenUDP(network, addr, opts)
	if err != nil {
		return nil, err
	}
	c, err := NewConn(uc)
	if err != nil {
		uc.Close()
		return nil, err
	}
	return c, nil
}

// ReserveProcs raises GOMAXPROCS to blocked+1 when it is lower, and returns the value
// it had. A goroutine blocked in the ReadBatch of a ListenBlocking Conn keeps its P
// while it waits (the runtime takes it back only when other goroutines need it); when
// there are fewer Ps than such goroutines, one that wakes finds none free, queues,
// and waits for the scheduler to take a P from a thread still blocked, which costs a
// futex wake-up and up to a sysmon period of latency. With a P for each of them and
// one for everything else, every wake-up finds its P. The Ps beyond the cores cost
// nothing while their threads are blocked. A server that serves blocked sockets calls
// it once, from main, with the number of such sockets; library code leaves the
// process's GOMAXPROCS alone.
func ReserveProcs(blocked int) (previous int) {
	previous = runtime.GOMAXPROCS(0)
	if blocked+1 > previous {
		runtime.GOMAXPROCS(blocked + 1)
	}
	return previous
}
