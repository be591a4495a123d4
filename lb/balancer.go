package lb

import (
	"math/bits"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/route"
)

// Pull states of a key.
const (
	pullNone     = iota // no pull outstanding
	pullInFlight        // queued to the agent, not answered yet
	pullWanted          // wanted, but the pull queue was full; Sweep queues it again
)

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

// packAddr packs an IPv4 address and port for the slot's inline hosts.
func packAddr(a netip.AddrPort) uint64 {
	ip, _ := route.WireIP(a.Addr())
	return uint64(uint32(ip))<<32 | uint64(a.Port())
}

// unpackAddr is the inverse of packAddr.
func unpackAddr(w uint64) netip.AddrPort {
	return netip.AddrPortFrom(route.AddrFromWire(int32(uint32(w>>32))), uint16(w))
}

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
// the idle set does not serve. ipv6 says the client takes IPv6 hosts. sl is the key's
// slot in an index (current or recently replaced). Lock-free.
func (ks *keyState) pickSnapshot(sl *slot, t *Table, ipv6 bool) (netip.AddrPort, codec.RetCode) {
	p := &t.p
	v := ks.sets.Load().view(ipv6)
	if v.cross && len(v.all) > 0 {
		t.counters.crossZonePicks.Add(1)
	}
	if len(v.over) == 0 {
		// Rule 2: idle hosts only; access_cnt unchanged.
		if len(v.idle) == 0 {
			return netip.AddrPort{}, codec.RetNoExist
		}
		return v.nextIdle(sl.rr.Add(1) - 1), codec.RetSucc
	}
	if p.pol.panics(len(v.idle), len(v.over)) {
		return ks.pickPanic(sl, t, v), codec.RetSucc
	}
	// Rules 1 and 3: "if access_cnt >= probe_num reset it and probe, else increment
	// it" makes every (probe_num+1)-th call a probe; a running count taken modulo
	// probe_num+1 gives the same sequence with one atomic add.
	if ks.access.Add(1)%p.probe == 0 {
		return v.addr(int(v.over[(ks.overRR.Add(1)-1)%uint64(len(v.over))])), codec.RetSucc
	}
	if len(v.idle) == 0 {
		return netip.AddrPort{}, codec.RetOverload
	}
	return v.nextIdle(sl.rr.Add(1) - 1), codec.RetSucc
}

// report applies one call result to the host at addr and reports whether the key
// has it.
func (ks *keyState) report(t *Table, addr netip.AddrPort, succ bool, now int64, latency time.Duration) bool {
	ks.mu.Lock()
	s := ks.sets.Load()
	i := s.find(addr)
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
		ks.regroup(t, s, now)
	}
	if !ks.dirty.Load() {
		ks.dirty.Store(true)
	}
	ks.mu.Unlock()
	return true
}

// regroup publishes a new snapshot of s's hosts and states, after a state change or
// when slow start moves a weight. The caller holds mu.
func (ks *keyState) regroup(t *Table, s *hostSets, now int64) {
	hosts := s.hosts
	if hosts == nil {
		hosts = make([]route.Host, s.count())
		for i := range hosts {
			hosts[i].Addr = s.addr(i)
		}
	}
	ks.publish(t, group(t, hosts, s.state, now))
}

// expireOverloads moves hosts overloaded for overload_timeout back to idle, without
// waiting for a report, and rebuilds the snapshot when slow start is due. The caller
// holds mu.
func (ks *keyState) expireOverloads(t *Table, now int64) {
	s := ks.sets.Load()
	changed := s.regroupAt != 0 && now >= s.regroupAt
	for _, st := range s.state {
		if st.overloaded && now-st.since >= st.overloadTimeout(&t.p) {
			st.setIdle(&t.p, now)
			changed = true
		}
	}
	if changed {
		ks.regroup(t, s, now)
	}
}

// publish makes s the key's snapshot and keeps the table's host gauges. The caller
// holds mu.
func (ks *keyState) publish(t *Table, s *hostSets) {
	old := ks.sets.Swap(s)
	t.mirror(ks)
	idle, over := int64(s.count()-s.nOver), int64(s.nOver)
	if old != nil {
		idle -= int64(old.count() - old.nOver)
		over -= int64(old.nOver)
	}
	t.hostsIdle.Add(idle)
	t.hostsOver.Add(over)
}

// same reports whether s holds exactly hosts (normalised), weights and zones included.
func (s *hostSets) same(hosts []route.Host) bool {
	if len(hosts) != s.count() {
		return false
	}
	for i, h := range hosts {
		if h != s.host(i) {
			return false
		}
	}
	return true
}

// apply installs a non-empty route answer: new hosts join idle with fresh counters
// (and, with slow start, ramp up from now unless the key had no hosts), hosts gone
// leave, kept hosts keep their state and counters and take the answer's weight and
// zone. hosts is not retained. It reports whether it published (and so mirrored) a
// new snapshot. The caller holds mu.
func (ks *keyState) apply(t *Table, hosts []route.Host, now int64) bool {
	hs := route.Normalize(slices.Clone(hosts))
	if len(hs) > maxHostsPerKey {
		hs = hs[:maxHostsPerKey]
	}
	old := ks.sets.Load()
	if old.same(hs) {
		return false // a refresh that changes nothing: keep the snapshot
	}
	state := make([]*hostState, len(hs))
	fresh := 0
	for i, h := range hs {
		if j := old.find(h.Addr); j >= 0 {
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
	rampFrom := now
	if old.count() == 0 {
		rampFrom = noRamp // a key's first hosts start together: nothing to ramp against
	}
	for i := range hs {
		if state[i] == nil {
			st := &block[0]
			block = block[1:]
			if extras != nil {
				st.x = &extras[0]
				extras = extras[1:]
			}
			st.setIdle(&t.p, now)
			st.rampFrom = rampFrom
			state[i] = st
		}
	}
	ks.publish(t, group(t, hs, state, now))
	return true
}

// status builds the key's status message and clears dirty. The caller holds mu.
func (ks *keyState) status() Status {
	s := ks.sets.Load()
	modid, cmdid := route.UnpackKey(ks.key)
	st := Status{Modid: modid, Cmdid: cmdid, Hosts: make([]HostStatus, len(s.state))}
	for i, h := range s.state {
		st.Hosts[i] = HostStatus{Host: s.addr(i), Succ: h.rsucc, Err: h.rerr, Overload: h.overloaded}
	}
	ks.dirty.Store(false)
	return st
}
