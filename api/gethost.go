package api

import (
	"context"
	"fmt"
	"time"

	"github.com/larsgo/lars/codec"
)

// GetHost asks the agent which host to call for key (modid, cmdid). It returns
// ErrOverload, ErrNoExist or ErrSystem for the agent's retcodes 1, 3 and 2,
// ErrTimeout when no answer comes within the client's timeout or before ctx's
// deadline, ErrAgentUnreachable when the agent's port refuses the request, and
// context.Canceled when ctx is cancelled. It does not allocate in steady state.
func (c *Client) GetHost(ctx context.Context, modid, cmdid int32) (Host, error) {
	d, err := c.budget(ctx)
	if err != nil {
		return Host{}, err
	}
	p := PortIndex(modid, cmdid, len(c.conns))
	i, err := c.acquire(ctx, p, d)
	if err != nil {
		return Host{}, err
	}
	s := &c.slots[i]
	seq := c.nextSeq(i)
	st := waitState(p, seq)
	c.lanes[p].waiters.Add(1)
	s.state.Store(st)
	s.req.Seq, s.req.Modid, s.req.Cmdid = seq, modid, cmdid
	s.buf, err = codec.AppendFrame(s.buf[:0], codec.MsgGetHostRequest, &s.req)
	var a answer
	switch {
	case err != nil:
		c.abandon(s, st)
	case c.lanes[p].lead.CompareAndSwap(false, true):
		a, err = c.leadCall(ctx, p, s, st, d)
	default:
		a, err = c.followCall(ctx, p, s, st, d)
	}
	c.release(p, i)
	if err != nil {
		return Host{}, err
	}
	if a.code != answerAgent || a.modid != modid || a.cmdid != cmdid || a.retcode != 0 || a.badHost {
		return c.notAHost(&a, modid, cmdid)
	}
	return Host{Addr: a.host}, nil
}

// leadCall sends the request in slot s (state st) to lane p, whose lead the caller
// holds, and reads the socket itself (see lead) until its answer comes, up to d or
// until ctx is done; it leaves the slot's state 0 and gives the lead back.
func (c *Client) leadCall(ctx context.Context, p int, s *slot, st uint64, d time.Duration) (answer, error) {
	w := &s.w
	*w = waitee{s: s, st: st}
	err := c.lead(ctx, p, w, d, s.buf)
	c.lanes[p].r.own = nil
	if !w.got { // lead checks w after every datagram: got implies nil
		return c.leadEnded(p, s, st, err)
	}
	s.state.Store(0)
	c.yield(p)
	return w.a, nil
}

// leadEnded ends a leadCall whose own answer lead did not read: one a refusal or Close
// committed (err nil), or a wait that ended with err.
//
//go:noinline
func (c *Client) leadEnded(p int, s *slot, st uint64, err error) (answer, error) {
	if err == nil {
		a := <-s.ch
		s.state.Store(0)
		c.yield(p)
		return a, nil
	}
	a, answered := c.abandon(s, st)
	c.yield(p)
	if answered {
		return a, nil // the answer raced the timeout and won
	}
	if err != ErrClosed && !s.w.unsent {
		c.lanes[p].stats.timeouts.Add(1)
	}
	return answer{}, err
}

// followCall sends the request in slot s (state st) to lane p, which someone else
// reads, and waits for the answer they hand over.
//
//go:noinline
func (c *Client) followCall(ctx context.Context, p int, s *slot, st uint64, d time.Duration) (answer, error) {
	if err := c.send(p, s.buf); err != nil {
		c.abandon(s, st)
		return answer{}, err
	}
	return c.wait(ctx, s, st, d)
}

// notAHost turns an answer to a GetHost call for (modid, cmdid) that is not a host
// into the call's error: a refusal or Close, a retcode, an answer for another key, or
// one whose host's ip6 is malformed.
//
//go:noinline
func (c *Client) notAHost(a *answer, modid, cmdid int32) (Host, error) {
	if a.code != answerAgent {
		return Host{}, a.code.err()
	}
	if a.modid != modid || a.cmdid != cmdid {
		c.stats.malformed.Add(1)
		return Host{}, fmt.Errorf("%w: answer for key (%d, %d) to a request for (%d, %d)",
			ErrSystem, a.modid, a.cmdid, modid, cmdid)
	}
	if a.retcode == 0 && a.badHost {
		c.stats.malformed.Add(1)
		return Host{}, fmt.Errorf("%w: answer for key (%d, %d) with an ip6 that is not 16 bytes", ErrSystem, modid, cmdid)
	}
	return Host{}, retcodeErr(a.retcode)
}
