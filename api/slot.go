package api

import (
	"context"
	"net/netip"
	"sync/atomic"
	"time"

	pb "github.com/larsgo/lars/codec/larspb"
)

// A slot is one GetHost caller's waiting place, reused call after call so that a call
// allocates nothing. Whoever acquired the slot's index (see acquire) owns every field
// but state and ch, which the readers touch:
//
//   - state is 0 while nobody waits. The owner counts itself in its lane's waiters and
//     stores stateWaiting|port<<32|seq before sending; whoever reads the answer for
//     that seq on that port (the owner itself when it leads the lane), or a refusal or
//     Close, commits with deliver. The owner ends its wait by receiving that answer, or
//     by swapping its state back to 0 with abandon (after which no answer can come)
//     and, if that swap fails, receiving the answer already committed.
//   - ch has capacity 1 and is empty whenever state is 0.
type slot struct {
	state   atomic.Uint64
	ch      chan answer
	timer   *time.Timer // stopped between calls
	buf     []byte      // encoded request
	req     pb.GetHostRequest
	rep     pb.ReportRequest
	repHost pb.HostInfo
	repIP6  [16]byte // backing store of repHost.Ip6
	w       waitee   // the owner's wait while it leads its lane
	gen     uint32   // generation of the slot's last seq
}

// Bits of slot.state above the 32-bit seq and the 16-bit port index.
const (
	stateWaiting   uint64 = 1 << 48
	stateDelivered uint64 = 1 << 49
)

// waitState returns the slot state of a caller waiting for seq on port index p.
func waitState(p int, seq uint32) uint64 { return stateWaiting | uint64(p)<<32 | uint64(seq) }

// statePort returns the port index of a slot state.
func statePort(st uint64) int { return int(st >> 32 & 0xffff) }

func (s *slot) init() {
	s.ch = make(chan answer, 1)
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	s.buf = make([]byte, 0, 64)
	s.rep.Host = &s.repHost
	s.req.Accept = uint32(pb.Accept_ACCEPT_ROUTE_EXT)
}

// answerCode says where a slot's answer came from.
type answerCode uint8

const (
	answerAgent   answerCode = iota // the agent answered; the other fields hold it
	answerRefused                   // the agent's port refused a datagram
	answerClosed                    // the client was closed
)

// err returns the error for an answer that is not the agent's.
func (a answerCode) err() error {
	switch a {
	case answerRefused:
		return ErrAgentUnreachable
	case answerClosed:
		return ErrClosed
	}
	return nil
}

// answer is what a reader hands a waiting GetHost caller, by value.
type answer struct {
	code                  answerCode
	modid, cmdid, retcode int32
	host                  netip.AddrPort
	badHost               bool // the answer's host has an ip6 that is not 16 bytes
}

// acquire returns the index of a free slot for a call on port index p, now owned by
// the caller, waiting up to d when all are taken (which allocates a timer: MaxInFlight
// callers already wait).
func (c *Client) acquire(ctx context.Context, p int, d time.Duration) (uint32, error) {
	if i, ok := c.tryAcquire(p); ok {
		return i, nil
	}
	return c.awaitSlot(ctx, d)
}

// awaitSlot waits up to d, or until ctx is done, for a slot to be released.
func (c *Client) awaitSlot(ctx context.Context, d time.Duration) (uint32, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case i := <-c.free:
		return i, nil
	case <-t.C:
		c.stats.timeouts.Add(1)
		return 0, ErrTimeout
	case <-ctx.Done():
		c.stats.timeouts.Add(1)
		return 0, ctxErr(ctx.Err())
	case <-c.closing:
		return 0, ErrClosed
	}
}

// tryAcquire returns a free slot without waiting: the one port index p's last caller
// left (see release), else one from the free channel, else one another port's last
// caller left.
func (c *Client) tryAcquire(p int) (uint32, bool) {
	if i, ok := c.lanes[p].takeHot(); ok {
		return i, true
	}
	select {
	case i := <-c.free:
		return i, true
	default:
	}
	for k := range c.lanes {
		if i, ok := c.lanes[k].takeHot(); ok {
			return i, true
		}
	}
	return 0, false
}

// takeHot takes the free slot the lane keeps, if any.
func (ln *lane) takeHot() (uint32, bool) {
	if ln.hot.Load() == 0 {
		return 0, false
	}
	v := ln.hot.Swap(0)
	return v - 1, v != 0
}

// release gives slot i back after a call on port index p; its state must be 0 and its
// channel empty. The lane keeps it for the port's next caller, so that a caller alone
// on its port reuses its slot without touching what callers on other ports share. But
// a caller that found the free channel empty may be waiting on it: when the channel is
// empty after the slot is kept, the slot goes there instead. (A caller looks at the
// kept slots after it finds the channel empty, so it sees this one, or this release
// sees the channel empty, or another slot was put in the channel meanwhile. Only when
// a second waiter takes that one first does a waiter miss a kept slot, and it then
// takes the next slot released, as if every slot had been taken.)
func (c *Client) release(p int, i uint32) {
	ln := &c.lanes[p]
	if !ln.hot.CompareAndSwap(0, i+1) {
		c.free <- i
		return
	}
	if len(c.free) == 0 {
		if v := ln.hot.Swap(0); v != 0 {
			c.free <- v - 1
		}
	}
}

// nextSeq returns a fresh seq for slot i: the slot's own generation, increased,
// above the slot index, so that the reader finds the slot from the seq alone and a
// late answer for an earlier use of the slot does not match.
func (c *Client) nextSeq(i uint32) uint32 {
	s := &c.slots[i]
	s.gen++
	return s.gen<<c.shift | i
}

// deliver commits answer a to the owner of slot s if it still waits in state st: it
// swaps in st|stateDelivered, counts the owner out of its lane's waiters and then, and
// only then, sends a on the slot's channel. It reports whether the owner waited.
func (c *Client) deliver(s *slot, st uint64, a answer) bool {
	if !s.state.CompareAndSwap(st, st|stateDelivered) {
		return false
	}
	c.lanes[statePort(st)].waiters.Add(-1)
	s.ch <- a
	return true
}

// wait waits up to d, or until ctx is done, for the answer to the request the slot's
// owner sent in state st while someone else reads the lane, and leaves the slot's
// state 0.
func (c *Client) wait(ctx context.Context, s *slot, st uint64, d time.Duration) (answer, error) {
	s.timer.Reset(d)
	var err error
	select {
	case a := <-s.ch:
		s.timer.Stop()
		s.state.Store(0)
		return a, nil
	case <-s.timer.C:
		err = ErrTimeout
	case <-ctx.Done():
		s.timer.Stop()
		err = ctxErr(ctx.Err())
	}
	if a, ok := c.abandon(s, st); ok {
		return a, nil // the answer raced the timeout and won
	}
	c.lanes[statePort(st)].stats.timeouts.Add(1)
	return answer{}, err
}

// abandon ends the owner's wait in state st, counting it out of its lane's waiters.
// When someone already committed to an answer, abandon receives it and returns it with
// true.
func (c *Client) abandon(s *slot, st uint64) (answer, bool) {
	if s.state.CompareAndSwap(st, 0) {
		c.lanes[statePort(st)].waiters.Add(-1)
		return answer{}, false
	}
	a := <-s.ch
	s.state.Store(0)
	return a, true
}
