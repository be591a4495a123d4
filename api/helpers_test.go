package api_test

import (
	"net"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/api/apitest"
)

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
	return api.Host{IP: 0x0a000000 | modid<<8 | cmdid&0xff, Port: 10000 + cmdid}
}

// silentPort returns the port of a bound UDP socket that never answers.
func silentPort(t testing.TB) uint16 {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn.LocalAddr().(*net.UDPAddr).AddrPort().Port()
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

// waitFor polls cond every millisecond for up to a second and reports whether it held.
func waitFor(cond func() bool) bool {
	for range 1000 {
		if cond() {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return cond()
}
