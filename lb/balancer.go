package lb

import (
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/codec"
)

// Pull states of a key.
const (
	pullNone     = iota // no pull outstanding
	pullInFlight        // queued to the agent, not answered yet
	pullWanted          // wanted, but the pull queue was full; Sweep queues it again
)

// hostSets is an immutable snapshot of a key's hosts, published through
// keyState.sets. Host arrays are held by value, inline for keys of up to
// inlineHosts/2 hosts, so that a pick touches the snapshot and nothing else.
type hostSets struct {
	idle []Host // idle hosts, in hosts order; first, next to the inline array

	inline [inlineHosts]Host // backing array of idle, over and hosts when they fit

	over  []Host       // overloaded hosts, in hosts order
	hosts []Host       // every host, sorted by Host.pack; GetRoute and Report lookups
	state []*hostState // state[i] belongs to hosts[i]

	inlineState [inlineHosts / 2]*hostState // backing array of state when it fits

	// idleState and overState are the policy states of idle and over, index for
	// index (pointing past the hostStates, so a pick follows one pointer less); set
	// only under a policy that picks by host load (p2c, ewma), nil otherwise.
	idleState, overState []*hostExtra
}

// hostSetsWithState is a hostSets with room for its idleState and overState, for
// the policies that pick by host load.
type hostSetsWithState struct {
	hostSets
	inline [inlineHosts / 2]*hostExtra
}

// inlineHosts is the room for hosts inside a hostSets: every host twice (idle and
// over, then hosts), so 12 hosts per key fit; 192 bytes. Their states fit too, so
// that a Report reads the snapshot then the host's state, with no array between.
const inlineHosts = 24

// emptySets is the snapshot of a key without hosts.
var emptySets = &hostSets{}

// find returns the index of h in s.hosts, or -1.
func (s *hostSets) find(h Host) int {
	p := h.pack()
	lo, hi := 0, len(s.hosts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.hosts[m].pack() < p {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(s.hosts) && s.hosts[lo] == h {
		return lo
	}
	return -1
}

// group builds a snapshot from sorted hosts and their states, splitting them into
// the idle and overloaded sets. hosts is copied. The caller holds the key's mu.
func group(hosts []Host, state []*hostState, withSetState bool) *hostSets {
	var s *hostSets
	var setState []*hostExtra
	if withSetState {
		// One allocation holds the snapshot and its per-set states, so that a pick
		// reads them without another pointer to follow; s points into it.
		ps := &hostSetsWithState{}
		s, setState = &ps.hostSets, ps.inline[:]
	} else {
		s = &hostSets{}
	}
	s.state = state
	n := len(hosts)
	if n <= len(s.inlineState) {
		s.state = s.inlineState[:n:n]
		copy(s.state, state)
	}
	var buf []Host
	if 2*n <= len(s.inline) {
		buf = s.inline[: 2*n : 2*n]
	} else {
		buf = make([]Host, 2*n)
	}
	sets := buf[:n:n]
	s.hosts = buf[n:]
	copy(s.hosts, hosts)
	ni := 0
	for _, st := range state {
		if !st.overloaded {
			ni++
		}
	}
	i, o := 0, ni
	for k, st := range state {
		if st.overloaded {
			sets[o] = hosts[k]
			o++
		} else {
			sets[i] = hosts[k]
			i++
		}
	}
	s.idle, s.over = sets[:ni:ni], sets[ni:]
	if withSetState {
		ss := setState
		if n <= len(ss) {
			ss = ss[:n:n]
		} else {
			ss = make([]*hostExtra, n)
		}
		i, o := 0, ni
		for _, st := range state {
			if st.overloaded {
				ss[o] = st.x
				o++
			} else {
				ss[i] = st.x
				i++
			}
		}
		s.idleState, s.overState = ss[:ni:ni], ss[ni:]
	}
	return s
}

// keyState is one key of the route table. Pickers read sets (or the copy of its
// idle set in the key's index slot) and move the atomics without a lock; reporters
// and route writers serialize on mu. A pick of a key whose hosts are all idle reads
// only the key's slot (see slot); the keyState is for the other cases, Report and
// the writers.
type keyState struct {
	sets   atomic.Pointer[hostSets] // never nil once published
	access atomic.Uint64            // access_cnt as a running count: a call probes when it reaches a multiple of probe_num+1
	overRR atomic.Uint64            // picks from the overloaded set so far
	pull   atomic.Uint32            // pullNone, pullInFlight or pullWanted
	dirty  atomic.Bool              // reports arrived since the last status

	key        uint64       // the packed key
	hash       uint64       // hashKey(key) past the shard bits: the slot hash in the shard index
	refreshAt  atomic.Int64 // table time from which a get queues a refresh pull; math.MaxInt64: never. Written under mu, copied to the slot
	updated    atomic.Int64 // table time of the last route answer (or creation)
	pullAt     atomic.Int64 // table time the last pull was queued (or found still queued)
	lastStatus atomic.Int64 // table time of the last status
	pullSeq    uint64       // position of the key's last copy in the Pulls queue; guarded by Table.pullMu

	panics atomic.Uint64 // calls served in panic mode (Policies.PanicThreshold)

	mu       sync.Mutex  // guards the hostStates of sets, removed, and publishing sets
	removed  bool        // the key left the table; answers for it are ignored
	negative atomic.Bool // the route service answered no hosts; kept until refreshAt (Config.NegativeTTL); written under mu
	noRoute  atomic.Bool // created on demand and without hosts since (Config.MaxNoRouteKeys); written under mu (Table.setNoRoute)
	_        [8]byte     // pads keyState to 128 bytes: one size class, aligned
}

// unpackHost is the inverse of Host.pack.
func unpackHost(w uint64) Host { return Host{IP: int32(uint32(w >> 32)), Port: int32(uint32(w))} }

// fastMod returns x % n for 1 <= n <= inlineIdle and x < 1<<60 (Lemire's direct
// remainder: exact while x*(magic*n - 2^64) < 2^64), without a division. Whatever x,
// the result is below n.
func fastMod(x, n uint64) uint64 {
	hi, _ := bits.Mul64(fastModMagic[n]*x, n)
	return hi
}

// fastModMagic[n] is ^uint64(0)/n + 1, which wraps to 0 for n == 1 (as it should).
var fastModMagic = func() (m [inlineIdle + 1]uint64) {
	for n := 1; n <= inlineIdle; n++ {
		m[n] = ^uint64(0)/uint64(n) + 1
	}
	return m
}()

// pickSnapshot chooses a host by the get_host rules of LB-SEMANTICS.md from the
// key's published snapshot, whatever its sets: GetHost's way when the slot's copy of
// the idle set does not serve. sl is the key's slot in an index (current or recently
// replaced). Lock-free.
func (ks *keyState) pickSnapshot(sl *slot, t *Table) (Host, codec.RetCode) {
	p := &t.p
	s := ks.sets.Load()
	if len(s.over) == 0 {
		// Rule 2: idle hosts only; access_cnt unchanged.
		if len(s.idle) == 0 {
			return Host{}, codec.RetNoExist
		}
		return s.idle[(sl.rr.Add(1)-1)%uint64(len(s.idle))], codec.RetSucc
	}
	if p.pol.panics(len(s.idle), len(s.over)) {
		return ks.pickPanic(sl, t, s), codec.RetSucc
	}
	// Rules 1 and 3: "if access_cnt >= probe_num reset it and probe, else increment
	// it" makes every (probe_num+1)-th call a probe; a running count taken modulo
	// probe_num+1 gives the same sequence with one atomic add.
	if ks.access.Add(1)%p.probe == 0 {
		return s.over[(ks.overRR.Add(1)-1)%uint64(len(s.over))], codec.RetSucc
	}
	if len(s.idle) == 0 {
		return Host{}, codec.RetOverload
	}
	return s.idle[(sl.rr.Add(1)-1)%uint64(len(s.idle))], codec.RetSucc
}

// report applies one call result to host h and reports whether the key has h.
func (ks *keyState) report(t *Table, h Host, succ bool, now int64, latency time.Duration) bool {
	ks.mu.Lock()
	s := ks.sets.Load()
	i := s.find(h)
	if i < 0 {
		ks.mu.Unlock()
		return false
	}
	if pol := &t.p.pol; pol.pick != PolicyRoundRobin {
		ld := &s.state[i].x.load
		ld.end(pol.epoch(now))
		if latency > 0 && pol.pick == PolicyEWMA {
			ld.observe(float64(latency), now, pol.ewmaTau)
		}
	}
	if s.state[i].report(&t.p, succ, now) {
		ks.publish(t, group(s.hosts, s.state, t.p.pol.pick != PolicyRoundRobin))
	}
	if !ks.dirty.Load() {
		ks.dirty.Store(true)
	}
	ks.mu.Unlock()
	return true
}

// expireOverloads moves hosts overloaded for overload_timeout back to idle, without
// waiting for a report. The caller holds mu.
func (ks *keyState) expireOverloads(t *Table, now int64) {
	s := ks.sets.Load()
	changed := false
	for _, st := range s.state {
		if st.overloaded && now-st.since >= st.overloadTimeout(&t.p) {
			st.setIdle(&t.p, now)
			changed = true
		}
	}
	if changed {
		ks.publish(t, group(s.hosts, s.state, t.p.pol.pick != PolicyRoundRobin))
	}
}

// publish makes s the key's snapshot and keeps the table's host gauges. The caller
// holds mu.
func (ks *keyState) publish(t *Table, s *hostSets) {
	old := ks.sets.Swap(s)
	t.mirror(ks)
	if old != nil {
		t.hostsIdle.Add(int64(len(s.idle) - len(old.idle)))
		t.hostsOver.Add(int64(len(s.over) - len(old.over)))
	} else {
		t.hostsIdle.Add(int64(len(s.idle)))
		t.hostsOver.Add(int64(len(s.over)))
	}
}

// apply installs a non-empty route answer: new hosts join idle with fresh counters,
// hosts gone leave, kept hosts keep their state and counters. hosts is not retained.
// It reports whether it published (and so mirrored) a new snapshot. The caller holds
// mu.
func (ks *keyState) apply(t *Table, hosts []Host, now int64) bool {
	hs := slices.Clone(hosts)
	slices.SortFunc(hs, func(a, b Host) int {
		pa, pb := a.pack(), b.pack()
		switch {
		case pa < pb:
			return -1
		case pa > pb:
			return 1
		}
		return 0
	})
	hs = slices.Compact(hs)
	old := ks.sets.Load()
	if slices.Equal(hs, old.hosts) {
		return false // a refresh that changes nothing: keep the snapshot
	}
	state := make([]*hostState, len(hs))
	fresh := 0
	for i, h := range hs {
		if j := old.find(h); j >= 0 {
			state[i] = old.state[j]
		} else {
			fresh++
		}
	}
	// New hosts share one allocation, and their policy states another.
	block := make([]hostState, fresh)
	var extras []hostExtra
	if t.p.pol.keepsHostState() {
		extras = make([]hostExtra, fresh)
	}
	for i, h := range hs {
		if state[i] == nil {
			st := &block[0]
			block = block[1:]
			if extras != nil {
				st.x = &extras[0]
				extras = extras[1:]
			}
			st.Host = h
			st.setIdle(&t.p, now)
			state[i] = st
		}
	}
	ks.publish(t, group(hs, state, t.p.pol.pick != PolicyRoundRobin))
	return true
}

// status builds the key's status message and clears dirty. The caller holds mu.
func (ks *keyState) status() Status {
	s := ks.sets.Load()
	modid, cmdid := UnpackKey(ks.key)
	st := Status{Modid: modid, Cmdid: cmdid, Hosts: make([]HostStatus, len(s.state))}
	for i, h := range s.state {
		st.Hosts[i] = HostStatus{Host: h.Host, Succ: h.rsucc, Err: h.rerr, Overload: h.overloaded}
	}
	ks.dirty.Store(false)
	return st
}
