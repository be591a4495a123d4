//go:build unix

package api

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// newHandAgent opens a UDP socket for a test to play the agent by hand, and a client
// of one port on it with the given timeout; both are closed when the test ends.
func newHandAgent(t *testing.T, timeout time.Duration) (*net.UDPConn, *Client) {
	t.Helper()
	agent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Close() })
	port := uint16(agent.LocalAddr().(*net.UDPAddr).Port)
	c, err := New(Config{Agent: netip.MustParseAddr("127.0.0.1"), Ports: []uint16{port}, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return agent, c
}
