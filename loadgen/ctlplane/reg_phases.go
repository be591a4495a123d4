package ctlplane

import (
	"context"
	"time"

	"github.com/larsgo/lars/codec/larspb"
)

// runStorm has every agent register its instances at once and waits until every
// registration is answered and every accepted one has reached every subscriber, or
// the setup timeout.
func (r *regRun) runStorm(ctx context.Context, rep *RegisterReport) {
	start := r.now()
	want := uint64(0)
	for id, a := range r.agents {
		if a == nil {
			continue
		}
		if d := r.cfg.StormSpread; d > 0 {
			sleepCtx(ctx, time.Duration(start+int64(d)*int64(id)/int64(r.cfg.Agents)-r.now()))
		}
		a.cmds <- regCmd{kind: cmdStorm}
		want += uint64(r.cfg.Instances)
	}
	r.waitFor(ctx, r.cfg.SetupTimeout, func() bool {
		if r.stormAnswered.Load() < want {
			return false
		}
		return r.pushesDone(r.now(), phaseStorm, r.cfg.SetupTimeout)
	})
	st := &rep.Storm
	st.Instances = want
	st.Answered, st.Accepted = r.stormAnswered.Load(), r.stormAccepted.Load()
	if at := r.stormAnsweredAt.Load(); at > 0 {
		st.AllAnsweredS = float64(at-start) / 1e9
	}
	if at := r.stormAcceptedAt.Load(); at > 0 {
		st.AcceptedS = float64(at-start) / 1e9
		if st.AcceptedS > 0 {
			st.AcceptRate = float64(st.Accepted) / st.AcceptedS
		}
	}
	var last int64
	complete := st.Accepted == want
	for g := range r.inst {
		in := &r.inst[g]
		if in.phase != phaseStorm || in.newAt.Load() == 0 || in.status.Load() != int32(larspb.LeaseStatus_LEASE_OK)+1 {
			continue
		}
		if int(in.up.Load()) < r.subscribersReady {
			complete = false
		}
		last = max(last, in.upLast.Load())
	}
	if last > 0 {
		st.AllPushedS = float64(last-start) / 1e9
	}
	st.Complete = complete
}

// pushesDone reports whether nothing more is expected of the instances of phase (both
// phases when phase is above phaseSteady): each accepted registration reached every
// subscriber, and each ended one left them, or its wait passed.
func (r *regRun) pushesDone(now int64, phase uint8, wait time.Duration) bool {
	want := int32(r.subscribersReady)
	for g := range r.inst {
		in := &r.inst[g]
		newAt := in.newAt.Load()
		if newAt == 0 || (phase <= phaseSteady && in.phase != phase) {
			continue
		}
		st := in.status.Load()
		if st == 0 && now-newAt < int64(wait) {
			return false
		}
		if st == int32(larspb.LeaseStatus_LEASE_OK)+1 && in.up.Load() < want && now-newAt < int64(wait) {
			return false
		}
		switch in.end.Load() {
		case endDropped, endExpired:
			if in.down.Load() < want && now-in.endAt.Load() < int64(wait) {
				return false
			}
		}
	}
	return true
}

// drain waits, renewals going on, until every registration, drop and expiry of the
// steady phase has reached every subscriber or timed out.
func (r *regRun) drain(ctx context.Context) {
	for ctx.Err() == nil {
		if r.pushesDone(r.now(), phaseSteady+1, r.cfg.PushTimeout) {
			return
		}
		sleepCtx(ctx, drainPoll)
	}
}

// cleanup drops every instance still registered and waits for the answers (at most
// the setup timeout: as long as a storm's).
func (r *regRun) cleanup(ctx context.Context) {
	for _, a := range r.agents {
		if a != nil {
			a.cmds <- regCmd{kind: cmdCleanup}
		}
	}
	r.waitFor(context.WithoutCancel(ctx), r.cfg.SetupTimeout, func() bool {
		for _, a := range r.agents {
			if a != nil && !a.closed.Load() && (!a.cleaned.Load() || a.unanswered() > 0) {
				return false
			}
		}
		return true
	})
}

// waitFor polls done until it holds, ctx ends or timeout passes.
func (r *regRun) waitFor(ctx context.Context, timeout time.Duration, done func() bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if done() {
			return
		}
		sleepCtx(ctx, drainPoll)
	}
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
