package api

import (
	"errors"
	"net"
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
)

// reader is the state of one socket's read loop, allocated once before the loop.
type reader struct {
	c     *Client
	p     int // port index
	buf   []byte
	resp  pb.GetHostResponse
	host  pb.HostInfo
	route pb.GetRouteResponse
}

// readLoop reads the answers arriving on agent port index p until Close.
func (c *Client) readLoop(p int) {
	defer c.wg.Done()
	r := &reader{c: c, p: p, buf: make([]byte, codec.MaxFrameSize+1)}
	conn := c.conns[p]
	for {
		n, err := conn.Read(r.buf)
		if err != nil {
			switch {
			case isRefused(err):
				c.refuse(p)
			case c.closed.Load() || errors.Is(err, net.ErrClosed):
				return
			default:
				time.Sleep(time.Millisecond) // an unexpected error must not spin the loop
			}
			continue
		}
		c.stats.received.Add(1)
		if !r.handle(r.buf[:n]) {
			c.stats.malformed.Add(1)
		}
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
			r.c.stats.late.Add(1)
		}
		return true
	}
	return false
}

// getHost hands a GetHostResponse to the caller waiting for its seq on this port, or
// counts it late when nobody does.
func (r *reader) getHost(body []byte) bool {
	r.resp.Reset()
	r.host.Reset()
	r.resp.Host = &r.host
	if r.resp.UnmarshalVT(body) != nil {
		return false
	}
	m := &r.resp
	s := &r.c.slots[m.Seq&r.c.mask]
	st := waitState(r.p, m.Seq)
	if !s.state.CompareAndSwap(st, st|stateDelivered) {
		r.c.stats.late.Add(1)
		return true
	}
	s.ch <- answer{modid: m.Modid, cmdid: m.Cmdid, retcode: m.Retcode,
		host: Host{IP: r.host.Ip, Port: r.host.Port}}
	return true
}
