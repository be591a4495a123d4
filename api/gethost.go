package api

import (
	"context"
	"fmt"

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
	s.state.Store(st)
	s.req.Seq, s.req.Modid, s.req.Cmdid = seq, modid, cmdid
	s.buf, err = codec.AppendFrame(s.buf[:0], codec.MsgGetHostRequest, &s.req)
	if err == nil {
		err = c.send(p, s.buf)
	}
	var a answer
	if err != nil {
		abandon(s, st)
	} else {
		a, err = c.wait(ctx, s, st, d)
	}
	c.release(i)
	if err != nil {
		return Host{}, err
	}
	return c.hostOf(&a, modid, cmdid)
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
