package loadgen

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
)

// fakeAgent answers get_host and get_route on one UDP port of a simNet, on the
// simNet's time: after a fixed delay, and misbehaving on chosen requests (counted by
// arrival order, 1-based, over get_host requests), so that a test knows exactly what
// the load generator should count. Everything it does is decided when it reads a
// datagram, at the simulated time the datagram was sent.
type fakeAgent struct {
	delay     time.Duration
	dropEvery int           // no answer
	lateEvery int           // answer after lateDelay instead of delay...
	lateUntil int           // ...for requests up to this number only
	lateDelay time.Duration // (more than the client's timeout)
	dupEvery  int           // answer twice
	badEvery  int           // answer with a malformed datagram instead
	stallAt   int           // stop reading for stall when this request arrives
	stall     time.Duration
	capacity  float64 // when positive, drop requests beyond this rate per second
	// realPause, when positive, stalls the whole simulated network for this much real
	// time at each pauseEvery-th datagram, as a busy machine would.
	realPause  time.Duration
	pauseEvery int
	// onRequest, when not nil, is called with each get_host request's number.
	onRequest func(k int)

	sim                         *simNet
	conn                        *net.UDPConn
	n, dropped, late, dups, bad atomic.Int64

	// Owned by the reader, under the simNet's lock.
	busyUntil int64 // simulated time the stall ends
	tokens    float64
	last      int64
	req       larspb.GetHostRequest
	rreq      larspb.GetRouteRequest
}

// listenLoopback binds a UDP socket on an ephemeral port of 127.0.0.1, closed when
// the test ends.
func listenLoopback(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(4 << 20)
	t.Cleanup(func() { c.Close() })
	return c
}

func port(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }

// agent starts f on the network and returns its port.
func (s *simNet) agent(f *fakeAgent) int {
	f.sim, f.conn = s, listenLoopback(s.t)
	s.serve(f.conn, f.handle)
	return port(f.conn)
}

// serve reads the datagrams of c until it is closed, and hands each to handle at the
// simulated time, under the simNet's lock, before counting it read.
func (s *simNet) serve(c *net.UDPConn, handle func(now int64, data []byte, from *net.UDPAddr)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			handle(s.vt, buf[:n], from)
			s.read++
			s.cond.Broadcast()
			s.mu.Unlock()
		}
	}()
}

// handle scripts the answer to one datagram read at now.
func (f *fakeAgent) handle(now int64, data []byte, from *net.UDPAddr) {
	s := f.sim
	if f.pauseEvery > 0 && (f.n.Load()+1)%int64(f.pauseEvery) == 0 {
		time.Sleep(f.realPause) // holding the simNet's lock: nothing moves meanwhile
	}
	readAt := max(now, f.busyUntil)
	if f.capacity > 0 {
		f.tokens = min(f.tokens+float64(readAt-f.last)/1e9*f.capacity, f.capacity/100)
		f.last = readAt
		if f.tokens < 1 {
			f.dropped.Add(1)
			return
		}
		f.tokens--
	}
	id, body, r := codec.ParseDatagram(data)
	if r != codec.ReasonOK {
		return
	}
	switch id {
	case codec.MsgGetHostRequest:
		if f.req.UnmarshalVT(body) != nil {
			return
		}
		k := int(f.n.Add(1))
		if f.onRequest != nil {
			f.onRequest(k)
		}
		if k == f.stallAt {
			f.busyUntil = readAt + int64(f.stall)
			readAt = f.busyUntil
		}
		resp := &larspb.GetHostResponse{Seq: f.req.Seq, Modid: f.req.Modid, Cmdid: f.req.Cmdid,
			Host: &larspb.HostInfo{Ip: 0x7f000001, Port: 7000}}
		out, _ := codec.AppendFrame(nil, codec.MsgGetHostResponse, resp)
		due := readAt + int64(f.delay)
		switch {
		case f.dropEvery > 0 && k%f.dropEvery == 0:
			f.dropped.Add(1)
			return
		case f.lateEvery > 0 && k%f.lateEvery == 0 && k <= f.lateUntil:
			f.late.Add(1)
			due = readAt + int64(f.lateDelay)
		case f.badEvery > 0 && k%f.badEvery == 0:
			f.bad.Add(1)
			out = out[:len(out)-1] // header length no longer matches
		case f.dupEvery > 0 && k%f.dupEvery == 0:
			f.dups.Add(1)
			s.schedule(due, f.conn, from, out)
		}
		s.schedule(due, f.conn, from, out)
	case codec.MsgAPIGetRouteRequest:
		if f.rreq.UnmarshalVT(body) != nil {
			return
		}
		resp := &larspb.GetRouteResponse{Modid: f.rreq.Modid, Cmdid: f.rreq.Cmdid,
			Host: []*larspb.HostInfo{{Ip: 0x7f000001, Port: 7000}, {Ip: 0x7f000001, Port: 7001}}}
		out, _ := codec.AppendFrame(nil, codec.MsgAPIGetRouteResponse, resp)
		s.schedule(readAt+int64(f.delay), f.conn, from, out)
	}
}

// proxy stands for a real server at addr (see simNet): it forwards every datagram to
// it, and the server's answer to a datagram that answered says is due delay after
// the datagram. It returns the proxy's port.
func (s *simNet) proxy(addr netip.AddrPort, delay time.Duration, answered func([]byte) bool) int {
	c := listenLoopback(s.t)
	server := net.UDPAddrFromAddrPort(addr)
	upstream := map[netip.AddrPort]*net.UDPConn{} // a socket toward the server per client socket
	s.serve(c, func(now int64, data []byte, from *net.UDPAddr) {
		key := from.AddrPort()
		up := upstream[key]
		if up == nil {
			var err error
			if up, err = net.DialUDP("udp", nil, server); err != nil {
				s.t.Errorf("proxy: %v", err)
				return
			}
			up.SetReadBuffer(4 << 20)
			s.t.Cleanup(func() { up.Close() })
			upstream[key] = up
			s.forward(up, c, from, delay)
		}
		if answered(data) {
			s.awaiting++
		}
		if _, err := up.Write(data); err != nil {
			s.t.Errorf("proxy: %v", err)
		}
	})
	return port(c)
}

// forward schedules the server's answers read on up, due delay after their request,
// from the proxy's socket c to the client.
func (s *simNet) forward(up, c *net.UDPConn, client *net.UDPAddr, delay time.Duration) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, err := up.Read(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			// The time stood still since the request: it waits for this answer.
			s.schedule(s.vt+int64(delay), c, client, append([]byte(nil), buf[:n]...))
			s.awaiting--
			s.cond.Broadcast()
			s.mu.Unlock()
		}
	}()
}
