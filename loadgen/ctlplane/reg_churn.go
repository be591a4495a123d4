package ctlplane

import (
	"context"
	"math/rand/v2"
	"time"
)

// regChurn makes the steady phase's replacements from one goroutine: event n (from 1)
// at a moment drawn uniformly within its slot [start + (n-1)/rate, start + n/rate),
// rate being Churn + Expire; the expiries are spread evenly among the events, and
// each event goes to the next agent of a shuffled round robin, so that every agent
// replaces about as many instances (their slots are counted for that).
type regChurn struct {
	r     *regRun
	rng   *rand.Rand
	order []int // the connected agents, shuffled
	next  int
}

func newRegChurn(r *regRun) *regChurn {
	c := &regChurn{r: r, rng: rand.New(rand.NewPCG(r.cfg.Seed, 0x7265676973746572))}
	for id, a := range r.agents {
		if a != nil {
			c.order = append(c.order, id)
		}
	}
	c.rng.Shuffle(len(c.order), func(i, j int) { c.order[i], c.order[j] = c.order[j], c.order[i] })
	return c
}

// run makes the events from start (ns since the epoch) until the run's duration has
// passed or ctx ends; without churn or expiry it only waits.
func (c *regChurn) run(ctx context.Context, start int64) {
	r := c.r
	end := start + int64(r.cfg.Duration)
	rate := r.cfg.Churn + r.cfg.Expire
	if rate == 0 || len(c.order) == 0 {
		sleepCtx(ctx, time.Duration(end-r.now()))
		return
	}
	interval := float64(time.Second) / rate
	share := r.cfg.Expire / rate
	for n := 1; ; n++ {
		at := start + int64((float64(n-1)+c.rng.Float64())*interval)
		if at >= end {
			break
		}
		sleepCtx(ctx, time.Duration(at-r.now()))
		if ctx.Err() != nil {
			return
		}
		kind := endDropped
		if int(float64(n)*share) > int(float64(n-1)*share) {
			kind = endExpired
		}
		a := r.agents[c.order[c.next]]
		c.next = (c.next + 1) % len(c.order)
		select {
		case a.cmds <- regCmd{kind: cmdReplace, end: kind, pick: c.rng.Uint64()}:
		case <-ctx.Done():
			return
		}
	}
	sleepCtx(ctx, time.Duration(end-r.now()))
}
