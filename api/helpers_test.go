package api_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/api/apitest"
	"github.com/larsgo/lars/internal/waitfor"
	"github.com/larsgo/lars/route"
)

// patience is the timeout of every call whose answer must come, and the bound of every
// wait for something a working client does: never reached on a working build however
// busy the machine, so that only a defect fails a test on it. A test of a timeout sets
// its short timeout on the call under test alone.
const patience = 30 * time.Second

// startAgent starts a fake agent on 3 ports, closed when the test ends.
func startAgent(t testing.TB) *apitest.Agent {
	t.Helper()
	a, err := apitest.Start(3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// newClient returns a client of cfg, closed when the test ends.
func newClient(t testing.TB, cfg api.Config) *api.Client {
	t.Helper()
	c, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// clientOf returns a client of agent a with the given per-call timeout.
func clientOf(t testing.TB, a *apitest.Agent, timeout time.Duration) *api.Client {
	cfg := a.Config()
	cfg.Timeout = timeout
	return newClient(t, cfg)
}

// hostFor is the host the tests route key (modid, cmdid) to: derived from the key, so
// that an answer meant for another caller shows.
func hostFor(modid, cmdid int32) api.Host {
	return route.FromWire(0x0a000000|modid<<8|cmdid&0xff, 10000+cmdid)
}

// silentPort returns the port of a bound UDP socket that never answers.
func silentPort(t testing.TB) uint16 {
	t.Helper()
	_, port := silentAgent(t)
	return port
}

// silentAgent returns a bound UDP socket that never answers, and its port; a test
// reads the requests sent to it with awaitRequests.
func silentAgent(t testing.TB) (*net.UDPConn, uint16) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, conn.LocalAddr().(*net.UDPAddr).AddrPort().Port()
}

// awaitRequests reads n datagrams from a silent agent's socket, waiting up to
// patience: the requests of calls that now wait for answers.
func awaitRequests(t testing.TB, conn *net.UDPConn, n int) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(patience))
	buf := make([]byte, 2048)
	for i := range n {
		if _, err := conn.Read(buf); err != nil {
			t.Fatalf("request %d of %d not sent: %v", i+1, n, err)
		}
	}
}

// closedPort returns a port of 127.0.0.1 where nothing listens: datagrams sent to it
// draw an ICMP port unreachable.
func closedPort(t testing.TB) uint16 {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := conn.LocalAddr().(*net.UDPAddr).AddrPort().Port()
	conn.Close()
	return p
}

// waitFor polls cond until it holds, for up to patience, and reports whether it held.
func waitFor(cond func() bool) bool { return waitfor.Poll(patience, cond) }

// deadlineCtx is a context whose deadline passes when the test calls pass, not at a
// time: a call given it waits (as for any deadline: its Done channel is watched) until
// the test has seen what must happen meanwhile, then gives up with ErrTimeout. It has
// no Deadline, so the call's own timeout is the client's.
type deadlineCtx struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newDeadlineCtx() *deadlineCtx {
	return &deadlineCtx{Context: context.Background(), done: make(chan struct{})}
}

func (c *deadlineCtx) Done() <-chan struct{} { return c.done }

func (c *deadlineCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// pass makes the deadline pass.
func (c *deadlineCtx) pass() { c.once.Do(func() { close(c.done) }) }
