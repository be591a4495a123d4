package lb

import (
	"math/rand/v2"

	"github.com/larsgo/lars/codec"
)

// pickPolicy chooses a host under the p2c or ewma policy: the get_host rules of
// LB-SEMANTICS.md (probes, RetOverload, panic mode) with the idle host chosen by two
// random choices instead of round robin. The returned host has one more call in
// flight. Lock-free.
func (ks *keyState) pickPolicy(sl *slot, t *Table) (Host, codec.RetCode) {
	s := ks.sets.Load()
	pol := &t.p.pol
	now := t.now.Load()
	epoch := pol.epoch(now)
	if len(s.over) == 0 {
		if len(s.idle) == 0 {
			return Host{}, codec.RetNoExist
		}
		return pickLeast(s.idle, s.idleState, pol, epoch, now), codec.RetSucc
	}
	if pol.panics(len(s.idle), len(s.over)) {
		h := ks.pickPanic(sl, t, s)
		if i := s.find(h); i >= 0 {
			s.state[i].x.load.begin(epoch)
		}
		return h, codec.RetSucc
	}
	if ks.access.Add(1)%t.p.probe == 0 {
		i := (ks.overRR.Add(1) - 1) % uint64(len(s.over))
		s.overState[i].load.begin(epoch)
		return s.over[i], codec.RetSucc
	}
	if len(s.idle) == 0 {
		return Host{}, codec.RetOverload
	}
	return pickLeast(s.idle, s.idleState, pol, epoch, now), codec.RetSucc
}

// pickLeast returns the cheaper of two hosts of hosts chosen at random (the only one
// if there is one) and counts a call in flight on it. states[i] is the state of
// hosts[i].
func pickLeast(hosts []Host, states []*hostExtra, pol *policyParams, epoch uint32, now int64) Host {
	n := uint64(len(hosts))
	c := uint64(0)
	if n > 1 {
		r := rand.Uint64()
		a := (r & 0xffffffff) % n
		b := (r >> 32) % (n - 1)
		if b >= a {
			b++
		}
		ca, cb := states[a].load.cost(pol, epoch, now), states[b].load.cost(pol, epoch, now)
		if c = a; cb < ca {
			c = b
		}
	}
	states[c].load.begin(epoch)
	return hosts[c]
}

// pickPanic returns the next of all the key's hosts, idle and overloaded, round
// robin, and counts the call as served in panic mode.
func (ks *keyState) pickPanic(sl *slot, t *Table, s *hostSets) Host {
	ks.panics.Add(1)
	t.counters.panicPicks.Add(1)
	return s.hosts[(sl.rr.Add(1)-1)%uint64(len(s.hosts))]
}
