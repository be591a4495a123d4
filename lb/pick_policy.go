package lb

import (
	"math/rand/v2"
	"net/netip"
	"slices"

	"github.com/larsgo/lars/codec"
)

// pickPolicy chooses a host under the p2c or ewma policy: the get_host rules of
// LB-SEMANTICS.md (probes, RetOverload, panic mode) with the idle host chosen by two
// random choices instead of round robin. The returned host has one more call in
// flight. Lock-free.
func (ks *keyState) pickPolicy(sl *slot, t *Table, ipv6 bool) (netip.AddrPort, codec.RetCode) {
	s := ks.sets.Load()
	v := s.view(ipv6)
	pol := &t.p.pol
	now := t.now.Load()
	epoch := pol.epoch(now)
	if v.cross && len(v.all) > 0 {
		t.counters.crossZonePicks.Add(1)
	}
	if len(v.over) == 0 {
		if len(v.idle) == 0 {
			return netip.AddrPort{}, codec.RetNoExist
		}
		return pickLeast(v, pol, epoch, now), codec.RetSucc
	}
	if pol.panics(len(v.idle), len(v.over)) {
		h := ks.pickPanic(sl, t, v)
		if i := s.find(h); i >= 0 {
			s.state[i].x.load.begin(epoch)
		}
		return h, codec.RetSucc
	}
	if ks.access.Add(1)%t.p.probe == 0 {
		i := (ks.overRR.Add(1) - 1) % uint64(len(v.over))
		v.overState[i].load.begin(epoch)
		return v.addr(int(v.over[i])), codec.RetSucc
	}
	if len(v.idle) == 0 {
		return netip.AddrPort{}, codec.RetOverload
	}
	return pickLeast(v, pol, epoch, now), codec.RetSucc
}

// pickLeast returns the cheaper of two of v's idle hosts chosen at random (in
// proportion to their weights when they differ; the only one if there is one) and
// counts a call in flight on it.
func pickLeast(v *pickSet, pol *policyParams, epoch uint32, now int64) netip.AddrPort {
	n := uint64(len(v.idle))
	c := uint64(0)
	if n > 1 {
		r := rand.Uint64()
		var a, b uint64
		if v.wheel != nil {
			// Positions in idle of two turns of the wheel (host indexes, ascending in
			// idle as in the key).
			m := uint64(len(v.wheel))
			a = uint64(idlePos(v.idle, v.wheel[(r&0xffffffff)%m]))
			b = uint64(idlePos(v.idle, v.wheel[(r>>32)%m]))
		} else {
			a = (r & 0xffffffff) % n
			b = (r >> 32) % (n - 1)
			if b >= a {
				b++
			}
		}
		ca, cb := v.idleState[a].load.cost(pol, epoch, now), v.idleState[b].load.cost(pol, epoch, now)
		if c = a; cb < ca {
			c = b
		}
	}
	v.idleState[c].load.begin(epoch)
	return v.addr(int(v.idle[c]))
}

// idlePos returns the position of host index i in idle (ascending).
func idlePos(idle []uint16, i uint16) int {
	p, _ := slices.BinarySearch(idle, i)
	return p
}

// pickPanic returns the next of all the view's hosts, idle and overloaded, round
// robin (by weight), and counts the call as served in panic mode.
func (ks *keyState) pickPanic(sl *slot, t *Table, v *pickSet) netip.AddrPort {
	ks.panics.Add(1)
	t.counters.panicPicks.Add(1)
	return v.nextAny(sl.rr.Add(1) - 1)
}
