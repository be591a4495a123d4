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
	i, err := c.acquire(ctx, d)
	if err != nil {
		return Host{}, err
	}
	s := &c.slots[i]
	p := PortIndex(modid, cmdid, len(c.conns))
	seq := c.nextSeq(i)
	st := waitState(p, seq)
	c.lanes[p].waiters.Add(1)
	s.state.Store(st)
	s.req.Seq, s.req.Modid, s.req.Cmdid = seq, modid, cmdid
	s.buf, err = codec.AppendFrame(s.buf[:0], codec.MsgGetHostRequest, &s.req)
	if err == nil {
		err = c.send(p, s.buf)
	}
	var a answer
	if err != nil {
		c.abandon(s, st)
	} else {
		a, err = c.await(ctx, p, s, st, d)
	}
	c.release(i)
	if err != nil {
		return Host{}, err
	}
	return c.hostOf(&a, modid, cmdid)
}

// await waits up to d, or until ctx is done, for the answer to the request sent from
// slot s in state st to lane p, and leaves the slot's state 0. When nobody reads the
// lane it reads the socket itself (see lead); otherwise it waits for the reader to
// hand it the answer.
func (c *Client) await(ctx context.Context, p int, s *slot, st uint64, d time.Duration) (answer, error) {
	if !c.lanes[p].lead.CompareAndSwap(false, true) {
		return c.wait(ctx, s, st, d)
	}
	w := &s.w
	*w = waitee{s: s, st: st}
	err := c.lead(ctx, p, w, time.Now().Add(d))
	if err == nil || w.got { // lead checks w after every datagram: got implies nil
		a := w.a
		if !w.got {
			a = <-s.ch // a refusal or Close
		}
		s.state.Store(0)
		c.yield(p)
		return a, nil
	}
	a, answered := c.abandon(s, st)
	c.yield(p)
	if answered {
		return a, nil // the answer raced the timeout and won
	}
	if err != ErrClosed {
		c.stats.timeouts.Add(1)
	}
	return answer{}, err
}

// hostOf turns the answer to a GetHost call for (modid, cmdid) into its result.
func (c *Client) hostOf(a *answer, modid, cmdid int32) (Host, error) {
	if a.code != answerAgent {
		return Host{}, a.code.err()
	}
	if a.modid != modid || a.cmdid != cmdid {
		c.stats.malformed.Add(1)
		return Host{}, fmt.Errorf("%w: answer for key (%d, %d) to a request for (%d, %d)",
			ErrSystem, a.modid, a.cmdid, modid, cmdid)
	}
	if err := retcodeErr(a.retcode); err != nil {
		return Host{}, err
	}
	return a.host, nil
}
