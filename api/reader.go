package api

import (
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
)

// reader is the read state of one lane, allocated once in New and used by whoever holds
// the lane's lead.
type reader struct {
	c     *Client
	p     int // port index
	buf   []byte
	resp  pb.GetHostResponse
	host  pb.HostInfo
	route pb.GetRouteResponse
	own   *waitee // the wait of the caller reading, when a caller leads
}

// datagram counts and dispatches the n bytes just read into buf.
func (r *reader) datagram(n int) { r.dispatch(r.buf[:n]) }

// dispatch counts and dispatches datagram b.
func (r *reader) dispatch(b []byte) {
	r.c.lanes[r.p].stats.received.Add(1)
	if !r.handle(b) {
		r.c.lanes[r.p].stats.malformed.Add(1)
	}
}

// handle dispatches one datagram and reports whether it was well formed.
func (r *reader) handle(b []byte) bool {
	id, body, reason := codec.ParseDatagram(b)
	if reason != codec.ReasonOK {
		return false
	}
	switch id {
	case codec.MsgGetHostResponse:
		return r.getHost(body)
	case codec.MsgAPIGetRouteResponse:
		r.route.ResetVT()
		if r.route.UnmarshalVT(body) != nil {
			return false
		}
		if !r.c.deliverRoute(&r.route) {
			r.c.lanes[r.p].stats.late.Add(1)
		}
		return true
	}
	return false
}

// getHost hands a GetHostResponse to the caller waiting for its seq on this port (the
// reader itself, when it is that caller), or counts it late when nobody does.
func (r *reader) getHost(body []byte) bool {
	r.resp = pb.GetHostResponse{Host: &r.host}
	r.host.ResetVT() // keeps Ip6's buffer: an IPv6 answer does not allocate
	if r.resp.UnmarshalVT(body) != nil {
		return false
	}
	addr, ok := codec.HostAddr(&r.host)
	m := &r.resp
	s := &r.c.slots[m.Seq&r.c.mask]
	st := waitState(r.p, m.Seq)
	a := answer{modid: m.Modid, cmdid: m.Cmdid, retcode: m.Retcode,
		host: addr, badHost: !ok}
	if w := r.own; w != nil && w.s == s && w.st == st {
		if !s.state.CompareAndSwap(st, st|stateDelivered) {
			r.c.lanes[r.p].stats.late.Add(1) // a refusal or Close ended the wait first
			return true
		}
		r.c.lanes[r.p].waiters.Add(-1)
		w.a, w.got = a, true
		return true
	}
	r.handOver(s, st, a)
	return true
}

// handOver commits answer a to the caller waiting in slot s in state st, another
// caller than the reader, or counts it late when nobody waits for it any more.
//
//go:noinline
func (r *reader) handOver(s *slot, st uint64, a answer) {
	if !r.c.deliver(s, st, a) {
		r.c.lanes[r.p].stats.late.Add(1)
	}
}
