package apitest

import (
	"net"
	"net/netip"
)

// holdDelay is the delay record gives an answer to be held until Release.
const holdDelay = -1

// heldAnswer is an answer kept by HoldNext until Release.
type heldAnswer struct {
	conn *net.UDPConn
	b    []byte
	to   netip.AddrPort
}

// HoldNext makes the agent keep its next n get_host or get_route answers until
// Release, which sends them in the order they were made. A test uses it to have an
// answer come exactly when it says (after a caller gave up, once another caller
// waits), whatever the speed of the machine. Answers still held at Close are never
// sent.
func (a *Agent) HoldNext(n int) {
	a.mu.Lock()
	a.hold, a.released = n, false
	a.mu.Unlock()
}

// Release sends the answers held by HoldNext, in the order they were made, and lets
// those HoldNext chose to hold but not yet made go out as soon as they are.
func (a *Agent) Release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.released = true
	for _, h := range a.held {
		h.conn.WriteToUDPAddrPort(h.b, h.to)
	}
	a.held = nil
}

// keep holds answer b for to until Release, or sends it at once if Release came
// between the decision to hold it and now.
func (a *Agent) keep(conn *net.UDPConn, b []byte, to netip.AddrPort) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.released {
		conn.WriteToUDPAddrPort(b, to)
		return
	}
	a.held = append(a.held, heldAnswer{conn: conn, b: append([]byte(nil), b...), to: to})
}
