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

// pickSet is one view of a key's hosts as get_host reads it: every host of the key,
// or only those of the agent's zone (Config.Zone), or only the IPv4 ones of either for
// a client that cannot take IPv6. Hosts are named by their index in the key's
// addresses, which every view of a snapshot shares. Immutable once published.
type pickSet struct {
	keyAddrs
	idle  []uint16 // the view's idle hosts, ascending
	wheel []uint16 // the weighted turn order of idle (buildWheel); nil: plain round robin
	over  []uint16 // the view's overloaded hosts, ascending
	all   []uint16 // idle then over: the picks of panic mode
	allW  []uint16 // the weighted turn order of all; nil: plain round robin

	// idleState and overState are the policy states of idle and over, index for
	// index; set only under a policy that picks by host load (p2c, ewma).
	idleState, overState []*hostExtra

	// cross says the agent has a zone, the key's hosts name zones, and this view is
	// not the agent's zone (too few of its hosts usable, or none there): its picks
	// are counted as cross-zone.
	cross bool
}

// keyAddrs are a key's addresses, sorted: packed (packAddr, 8 bytes a host) when they
// are all IPv4, the most common case, else as they are.
type keyAddrs struct {
	packed []uint64
	addrs  []netip.AddrPort
}

// addr returns the i-th address.
func (k *keyAddrs) addr(i int) netip.AddrPort {
	if k.packed != nil {
		return unpackAddr(k.packed[i])
	}
	return k.addrs[i]
}

// count returns the number of addresses.
func (k *keyAddrs) count() int { return len(k.packed) + len(k.addrs) }

// find returns the index of addr, or -1.
func (k *keyAddrs) find(addr netip.AddrPort) int {
	if k.packed != nil {
		if !addr.Addr().Is4() {
			return -1
		}
		p := packAddr(addr)
		i, ok := slices.BinarySearch(k.packed, p)
		if !ok {
			return -1
		}
		return i
	}
	i, ok := slices.BinarySearchFunc(k.addrs, addr, netip.AddrPort.Compare)
	if !ok {
		return -1
	}
	return i
}

// nextIdle returns the idle host of the n-th turn.
func (v *pickSet) nextIdle(n uint64) netip.AddrPort {
	if v.wheel != nil {
		return v.addr(int(v.wheel[n%uint64(len(v.wheel))]))
	}
	return v.addr(int(v.idle[n%uint64(len(v.idle))]))
}

// nextAny returns the host of the n-th turn over idle and overloaded hosts alike.
func (v *pickSet) nextAny(n uint64) netip.AddrPort {
	if v.allW != nil {
		return v.addr(int(v.allW[n%uint64(len(v.allW))]))
	}
	return v.addr(int(v.all[n%uint64(len(v.all))]))
}

// hostSets is an immutable snapshot of a key's hosts, published through
// keyState.sets: every host with its state, and the views get_host picks from.
type hostSets struct {
	pickSet          // the view for clients that take IPv6 hosts
	v4      *pickSet // the view for clients that do not: &pickSet when every host is IPv4

	// hosts are the key's hosts, sorted by address, when some host names a weight
	// or a zone; nil when none does (the addresses say it all).
	hosts []route.Host
	state []*hostState // state[i] belongs to the i-th address
	nOver int          // overloaded hosts, in any view

	// plain says every host is IPv4 and names no weight or zone: Lars's route, which
	// the key's index slot can answer GetRoute from.
	plain bool
	// regroupAt is the table time at which slow start next changes a weight, when
	// Sweep builds the snapshot again; 0: never.
	regroupAt int64

	// Backing arrays of packed, state and the view's all for keys of up to
	// inlineHosts IPv4 hosts: one allocation, so that a Report walks from the snapshot
	// to the host's state without reaching another block of memory first.
	inPacked [inlineHosts]uint64
	inState  [inlineHosts]*hostState
	inIdx    [inlineHosts]uint16
}

// inlineHosts is the most hosts a snapshot holds inside itself (hostSets.inPacked).
const inlineHosts = 12

// maxHostsPerKey is the most hosts a key keeps (views name hosts in 16 bits); a route
// with more keeps its first maxHostsPerKey by address. A route frame carries a few
// thousand at most.
const maxHostsPerKey = 1 << 16

// emptySets is the snapshot of a key without hosts.
var emptySets = func() *hostSets {
	s := &hostSets{plain: true}
	s.v4 = &s.pickSet
	return s
}()

// host returns the i-th host of the key.
func (s *hostSets) host(i int) route.Host {
	if s.hosts != nil {
		return s.hosts[i]
	}
	return route.Host{Addr: s.addr(i)}
}

// view returns the view a client reads: v4 for one that cannot take IPv6 hosts.
func (s *hostSets) view(ipv6 bool) *pickSet {
	if ipv6 {
		return &s.pickSet
	}
	return s.v4
}

// group builds a snapshot from hosts sorted by address (at most maxHostsPerKey) and
// their states. It keeps state (the caller gives it up), not hosts. The caller holds
// the key's mu.
func group(t *Table, hosts []route.Host, state []*hostState, now int64) *hostSets {
	n := len(hosts)
	s := &hostSets{state: state, plain: true}
	if n <= inlineHosts {
		s.state = s.inState[:n:n]
		copy(s.state, state)
	}
	all4, zoned, attrs := route.AllIPv4(hosts), false, false
	switch {
	case all4 && n <= inlineHosts:
		s.packed = s.inPacked[:n:n]
	case all4:
		s.packed = make([]uint64, n)
	default:
		s.addrs = make([]netip.AddrPort, n)
	}
	weights := make([]uint32, n)
	for i, st := range s.state {
		h := &hosts[i]
		if all4 {
			s.packed[i] = packAddr(h.Addr)
		} else {
			s.addrs[i] = h.Addr
		}
		if st.overloaded {
			s.nOver++
		}
		zoned = zoned || h.Zone != ""
		attrs = attrs || !h.Plain()
		var next int64
		weights[i], next = t.p.pol.weightAt(st, h.EffectiveWeight(), now)
		if next != 0 && (s.regroupAt == 0 || next < s.regroupAt) {
			s.regroupAt = next
		}
	}
	s.plain = all4 && !attrs
	if attrs {
		s.hosts = slices.Clone(hosts)
	}
	members := make([]uint16, 0, n)
	cross := false
	if zone := t.zone; zone != "" && zoned {
		local, usable := 0, 0
		for i, h := range hosts {
			if h.Zone == zone {
				local++
				if !state[i].overloaded {
					usable++
				}
			}
		}
		if usable > 0 && uint64(usable)*100 >= t.p.pol.zoneMinUsable*uint64(local) {
			for i, h := range hosts {
				if h.Zone == zone {
					members = append(members, uint16(i))
				}
			}
		} else {
			cross = true
		}
	}
	if len(members) == 0 {
		for i := range n {
			members = append(members, uint16(i))
		}
	}
	withState := t.p.pol.pick != PolicyRoundRobin
	s.pickSet = s.buildView(weights, members, withState, s.inIdx[:])
	s.cross = cross
	if all4 {
		s.v4 = &s.pickSet
		return s
	}
	members4 := make([]uint16, 0, len(members))
	for _, i := range members {
		if s.addrs[i].Addr().Is4() { // s.addrs: not every host is IPv4
			members4 = append(members4, i)
		}
	}
	v4 := s.buildView(weights, members4, withState, nil)
	v4.cross = cross
	s.v4 = &v4
	return s
}

// buildView builds the view of the hosts at members (ascending indexes into the key's
// addresses)
// with the key's weights, in buf if it has room.
func (s *hostSets) buildView(weights []uint32, members []uint16, withState bool, buf []uint16) pickSet {
	ni := 0
	for _, i := range members {
		if !s.state[i].overloaded {
			ni++
		}
	}
	m := len(members)
	var all []uint16
	if m <= len(buf) {
		all = buf[:m:m]
	} else {
		all = make([]uint16, m)
	}
	var st []*hostExtra
	if withState {
		st = make([]*hostExtra, m)
	}
	a, b := 0, ni
	for _, i := range members {
		j := &a
		if s.state[i].overloaded {
			j = &b
		}
		all[*j] = i
		if withState {
			st[*j] = s.state[i].x
		}
		*j++
	}
	v := pickSet{keyAddrs: s.keyAddrs, idle: all[:ni:ni], over: all[ni:], all: all}
	v.wheel = wheelOf(weights, v.idle)
	v.allW = wheelOf(weights, all)
	if withState {
		v.idleState, v.overState = st[:ni:ni], st[ni:]
	}
	return v
}

// wheelOf returns the weighted turn order of the hosts at idx, as indexes into the
// key's hosts, or nil when their weights are equal.
func wheelOf(weights []uint32, idx []uint16) []uint16 {
	if len(idx) < 2 {
		return nil
	}
	w := make([]uint32, len(idx))
	for j, i := range idx {
		w[j] = weights[i]
	}
	wheel := buildWheel(w)
	for j, pos := range wheel {
		wheel[j] = idx[pos]
	}
	return wheel
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
