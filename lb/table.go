// Package lb is the load-balancing core of the agent: the per-key balancer of
// LB-SEMANTICS.md and the sharded lock-free route table, with no I/O.
package lb

import (
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/route"
)

// Config configures a Table. Its zero value works: a table fed by a route service,
// with the Lars settings.
type Config struct {
	// Settings are the balancing parameters. The zero value means DefaultSettings();
	// anything else must pass Settings.Validate or NewTable panics.
	Settings Settings
	// Shards is the number of key shards, rounded up to a power of two. Default 64.
	Shards int
	// Clock returns the current time. Default time.Now. The hot path (GetHost,
	// GetRoute, Report) does not call it: it uses the time of the last Tick, Sweep or
	// route update, so the agent's Sweep period is the resolution of every timeout.
	Clock func() time.Time
	// Static says routes come only from ReplaceRoutes (a routes file): unknown keys
	// are not created and no pull is ever queued. Default false: an unknown key is
	// created empty and one pull is queued for it.
	Static bool
	// MaxKeys bounds the keys created on demand; beyond it unknown keys are refused
	// and counted (garbage keys from the network must not grow the table without
	// bound). ReplaceRoutes is not bounded by it. Default 1,000,000.
	MaxKeys int
	// MaxNoRouteKeys bounds, within MaxKeys, the keys created on demand that have no
	// hosts: waiting for their first answer, or answered empty (NegativeTTL). Beyond it
	// unknown keys are refused and counted, so that keys nobody serves (a flood of
	// made-up keys) cannot take the room of real ones. Default MaxKeys/2, at least 1.
	MaxNoRouteKeys int
	// NoAnswerTTL is how long a key created on demand may wait for its first answer:
	// past it, a Sweep removes the key (counted; the next get creates and pulls it
	// again), so that keys asked for while the route service is unreachable do not
	// stay for ever. Default 30s; negative: never.
	NoAnswerTTL time.Duration
	// PullQueue is the capacity of the Pulls channel. Default 1024.
	PullQueue int
	// StatusQueue is the capacity of the Statuses channel. Default 1024.
	StatusQueue int
	// NegativeTTL is how long a key the route service answered with no hosts is kept,
	// without hosts and without pulls: gets answer RetNoExist (GetRoute nothing) and
	// queue no pull until it has passed; the first get after it pulls the key again
	// (the key stays, answering nothing, until the answer), and a Sweep after it
	// removes a key nobody asked for. Default 0: an empty answer removes the key at
	// once, and the next get creates and pulls it again (Lars).
	NegativeTTL time.Duration
	// Policies are the opt-in balancing policies beyond Lars (p2c and ewma picks,
	// panic mode, growing ejection). The zero value turns them all off; anything else
	// must pass Policies.Validate(Settings) or NewTable panics.
	Policies Policies
	// Zone is the zone this agent runs in ("": none). get_host then prefers the hosts
	// of keys whose hosts name zones that are in this zone, while enough of them are
	// usable (Policies.ZoneMinUsable), and counts the picks that leave it.
	Zone string
}

// Defaults of Config.
const (
	DefaultShards      = 64
	DefaultMaxKeys     = 1_000_000
	DefaultNoAnswerTTL = 30 * time.Second
	DefaultPullQueue   = 1024
	DefaultStatusQueue = 1024
)

// Table is the route table: every key the agent knows with its hosts and their
// balancing state. GetHost, GetRoute and lookups never lock and never allocate once a
// key exists; Report locks only its key. All methods are safe for concurrent use.
type Table struct {
	p         params
	shards    []shard
	shardMask uint64
	shardBits uint
	clock     func() time.Time
	base      time.Time    // Clock() at creation: table time 0
	now       atomic.Int64 // coarse table time (ns since base), see Config.Clock
	static    bool
	zone      string // Config.Zone
	maxKeys   int64
	maxNoRt   int64 // Config.MaxNoRouteKeys
	negTTL    int64 // Config.NegativeTTL in ns; 0: off
	noAnsTTL  int64 // Config.NoAnswerTTL in ns; 0: never

	pulls    chan route.Key
	statuses chan Status

	// pullMu serializes sends on pulls, so that the order of the queue is the order
	// of pullsSent: the copy a key last queued (keyState.pullSeq) is still waiting
	// while pullSeq > pullsSent - len(pulls). See queued.
	pullMu    sync.Mutex
	pullsSent uint64 // keys ever put on pulls; guarded by pullMu

	replaceMu sync.Mutex // serializes ReplaceRoutes

	keys      atomic.Int64
	noRoute   atomic.Int64 // keys with keyState.noRoute set
	hostsIdle atomic.Int64
	hostsOver atomic.Int64
	counters  counters
	dropped   droppedKeys // keys removed, for the route client's unsubscribes (TrackDropped)
}

// NewTable returns an empty table.
func NewTable(cfg Config) *Table {
	s := cfg.Settings
	if s == (Settings{}) {
		s = DefaultSettings()
	}
	if err := s.Validate(); err != nil {
		panic(fmt.Sprintf("lb: NewTable: %v", err))
	}
	if err := cfg.Policies.Validate(s); err != nil {
		panic(fmt.Sprintf("lb: NewTable: %v", err))
	}
	n := cfg.Shards
	if n <= 0 {
		n = DefaultShards
	}
	n = 1 << bits.Len(uint(n-1)) // round up to a power of two
	t := &Table{
		p:         newParams(s, cfg.Policies),
		shards:    make([]shard, n),
		shardMask: uint64(n - 1),
		shardBits: uint(bits.TrailingZeros(uint(n))),
		zone:      cfg.Zone,
		clock:     cfg.Clock,
		static:    cfg.Static,
		maxKeys:   int64(orDefault(cfg.MaxKeys, DefaultMaxKeys)),
		negTTL:    max(int64(cfg.NegativeTTL), 0),
		noAnsTTL:  max(int64(orDefaultDuration(cfg.NoAnswerTTL, DefaultNoAnswerTTL)), 0),
		pulls:     make(chan route.Key, orDefault(cfg.PullQueue, DefaultPullQueue)),
		statuses:  make(chan Status, orDefault(cfg.StatusQueue, DefaultStatusQueue)),
	}
	t.maxNoRt = int64(orDefault(cfg.MaxNoRouteKeys, max(int(t.maxKeys/2), 1)))
	if t.clock == nil {
		t.clock = time.Now
	}
	t.base = t.clock()
	for i := range t.shards {
		t.shards[i].idx.Store(newIndex(minSlots))
	}
	return t
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// orDefaultDuration returns def for 0, and v otherwise (negative included).
func orDefaultDuration(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

// Settings returns the settings in use.
func (t *Table) Settings() Settings {
	p := &t.p
	return Settings{
		ProbeNum:        int(p.probe - 1),
		InitSuccCnt:     int(p.initSucc),
		InitErrCnt:      int(p.initErr),
		ErrRate:         p.errRate,
		SuccRate:        p.succRate,
		ContinErrLimit:  int(p.continErrLimit),
		ContinSuccLimit: int(p.continSuccLimit),
		WindowErrRate:   p.windowErrRate,
		IdleTimeout:     time.Duration(p.idleTimeout),
		OverloadTimeout: time.Duration(p.overloadTimeout),
		UpdateTimeout:   time.Duration(p.updateTimeout),
		PullTimeout:     time.Duration(p.pullTimeout),
		ReportInterval:  time.Duration(p.reportInterval),
	}
}

// Policies returns the policies in use, their defaults filled in.
func (t *Table) Policies() Policies {
	return t.p.pol.policies()
}

// Tick reads Config.Clock into the coarse clock the hot path uses. Sweep and the
// route writers tick too; an agent that wants a finer clock than its Sweep period
// may call Tick more often.
func (t *Table) Tick() {
	t.tick()
}

// tick advances the coarse clock (never backwards) and returns it.
func (t *Table) tick() int64 {
	now := int64(t.clock().Sub(t.base))
	for {
		old := t.now.Load()
		if now <= old {
			return old
		}
		if t.now.CompareAndSwap(old, now) {
			return now
		}
	}
}

// timeOf converts table time to wall time.
func (t *Table) timeOf(ns int64) time.Time { return t.base.Add(time.Duration(ns)) }

func (t *Table) shardOf(h uint64) *shard { return &t.shards[h&t.shardMask] }

// lookup returns the state of a packed key, or nil. Lock-free, allocation-free.
func (t *Table) lookup(key uint64) *keyState {
	_, ks := t.lookupSlot(key)
	return ks
}

// lookupSlot returns the index slot and state of a packed key, or nil, nil.
func (t *Table) lookupSlot(key uint64) (*slot, *keyState) {
	h := hashKey(key)
	return t.shardOf(h).idx.Load().get(key, h>>t.shardBits)
}

// mirror copies the key's refreshAt and idle set into its index slot, after a change
// of either. The caller holds ks.mu.
func (t *Table) mirror(ks *keyState) {
	sh := t.shardOf(hashKey(ks.key))
	sh.mu.Lock()
	if sl := sh.idx.Load().slotOf(ks); sl != nil {
		sl.load(ks)
	}
	sh.mu.Unlock()
}

// GetHost chooses a host of the key by the get_host rules: round-robin over the idle
// hosts (in proportion to their weights), every (probe_num+1)-th call to an overloaded
// host while there is one, and RetOverload when every host is overloaded and the call
// is not a probe. A key without hosts answers RetNoExist; an unknown key is created and
// pulled (see Config.Static, Config.MaxKeys and Config.MaxNoRouteKeys). A key older
// than update_timeout is pulled again in the background while it keeps answering.
// Any host may be answered, IPv6 ones included.
func (t *Table) GetHost(modid, cmdid int32) (netip.AddrPort, codec.RetCode) {
	return t.GetHostFrom(modid, cmdid, nil, true)
}

// MissGate decides whether a get for a key the table does not hold may create it (and
// pull it): the agent rate-limits each source's unknown keys with one. It is asked only
// for keys not in the table, from the goroutine of the get.
type MissGate interface {
	// AdmitMiss reports whether the unknown key may be created; false refuses it,
	// counted as rate limited.
	AdmitMiss() bool
}

// GetHostFrom is GetHost for a caller whose unknown keys pass gate first (nil: no
// gate), that takes IPv6 hosts only if ipv6 (a client that did not say it reads them
// is chosen a host among the key's IPv4 ones, by the same rules). It does not allocate
// when gate is a pointer.
func (t *Table) GetHostFrom(modid, cmdid int32, gate MissGate, ipv6 bool) (netip.AddrPort, codec.RetCode) {
	// lookupSlot, written out: a call less on the path of every get_host (with the
	// pick below in the function, 10 to 20% less time a call on tables in the caches).
	key := route.PackKey(modid, cmdid)
	h := hashKey(key)
	sl, ks := t.shardOf(h).idx.Load().get(key, h>>t.shardBits)
	if ks == nil {
		t.miss(key, gate)
		return netip.AddrPort{}, codec.RetNoExist
	}
	if now := t.now.Load(); now >= sl.refreshAt.Load() {
		t.refresh(ks, now)
	}
	if t.p.pol.pick != PolicyRoundRobin {
		return ks.pickPolicy(sl, t, ipv6)
	}
	if w := sl.fast.Load(); w&inlineCount != 0 {
		// Rule 2 from the slot's copy: idle IPv4 hosts only, access_cnt unchanged. The
		// counter stays far below 1<<60 (1e18 picks of one key).
		i := fastMod(sl.rr.Add(1)-1, w&inlineCount)
		if packed := sl.inline[i].Load(); sl.fast.Load() == w {
			return unpackAddr(packed), codec.RetSucc
		}
		// A writer changed the key meanwhile: take its snapshot.
	}
	return ks.pickSnapshot(sl, t, ipv6)
}

// GetRoute appends every host of the key to dst and returns it; it allocates only if
// dst is too small. An unknown key appends nothing and is created and pulled as by
// GetHost; a stale one is refreshed in the background.
func (t *Table) GetRoute(modid, cmdid int32, dst []route.Host) []route.Host {
	return t.GetRouteFrom(modid, cmdid, dst, nil, true)
}

// GetRouteFrom is GetRoute for a caller whose unknown keys pass gate first (nil: no
// gate), as GetHostFrom; without ipv6 the key's IPv6 hosts are left out.
func (t *Table) GetRouteFrom(modid, cmdid int32, dst []route.Host, gate MissGate, ipv6 bool) []route.Host {
	key := route.PackKey(modid, cmdid)
	sl, ks := t.lookupSlot(key)
	if ks == nil {
		t.miss(key, gate)
		return dst
	}
	if now := t.now.Load(); now >= sl.refreshAt.Load() {
		t.refresh(ks, now)
	}
	if w := sl.fast.Load(); w&inlineRoute != 0 {
		// Every host idle and plain IPv4: the slot's copy is the whole route, in
		// address order.
		n, m := len(dst), int(w&inlineCount)
		dst = slices.Grow(dst, m)
		out := dst[n : n+m]
		for i := range out {
			out[i] = route.Host{Addr: unpackAddr(sl.inline[i].Load())}
		}
		if sl.fast.Load() == w {
			return dst[:n+len(out)]
		}
		// A writer changed the key meanwhile: take its snapshot.
	}
	s := ks.sets.Load()
	if s.hosts != nil && (ipv6 || s.v4 == &s.pickSet) {
		return append(dst, s.hosts...)
	}
	if s.packed != nil { // every host IPv4, none with a weight or zone
		n := len(dst)
		dst = slices.Grow(dst, len(s.packed))[:n+len(s.packed)]
		for i, p := range s.packed {
			dst[n+i] = route.Host{Addr: unpackAddr(p)}
		}
		return dst
	}
	for i, a := range s.addrs {
		if ipv6 || a.Addr().Is4() {
			dst = append(dst, s.host(i))
		}
	}
	return dst
}

// Lookup returns the state of the key, as Walk would give it, without creating the
// key or queuing any pull: false if the table does not hold the key.
func (t *Table) Lookup(modid, cmdid int32) (KeyInfo, bool) {
	ks := t.lookup(route.PackKey(modid, cmdid))
	if ks == nil {
		return KeyInfo{}, false
	}
	return t.info(ks)
}

// Report records the result of a call to the host at h of the key: retcode 0 is a
// success, anything else a failure. It applies the report rules (counts, state changes,
// windows, overload_timeout). A report for an unknown key or a host the key does not
// have is ignored and counted.
func (t *Table) Report(modid, cmdid int32, h netip.AddrPort, retcode int32) {
	t.ReportLatency(modid, cmdid, h, retcode, 0)
}

// ReportLatency is Report with the call's latency as the caller measured it (0: not
// measured). Under the p2c and ewma policies a report ends one call in flight on h;
// under ewma a latency feeds h's peak-EWMA cost. Other policies ignore the latency.
func (t *Table) ReportLatency(modid, cmdid int32, h netip.AddrPort, retcode int32, latency time.Duration) {
	ks := t.lookup(route.PackKey(modid, cmdid))
	if ks == nil || !ks.report(t, h, retcode == 0, t.now.Load(), latency) {
		t.counters.reportsIgnored.Add(1)
	}
}

// refresh queues a pull for a key past its refreshAt (older than update_timeout, or
// a negative key past NegativeTTL) unless one is outstanding.
func (t *Table) refresh(ks *keyState, now int64) {
	if now < ks.refreshAt.Load() {
		return // the slot's copy was stale (an answer, or the key removed, meanwhile)
	}
	if ks.pull.Load() == pullNone && ks.pull.CompareAndSwap(pullNone, pullInFlight) {
		t.sendPull(ks, now, false)
	}
}

// setUpdated records a route answer (or creation) at now with the route valid for
// ttl: the key is refreshed from now+ttl on, never in a static table. The caller
// holds ks.mu, and mirrors ks if the key is in the index.
func (t *Table) setUpdated(ks *keyState, now, ttl int64) {
	ks.updated.Store(now)
	at := int64(math.MaxInt64)
	if !t.static && now <= math.MaxInt64-ttl {
		at = now + ttl
	}
	ks.refreshAt.Store(at)
}

// miss handles a get for an unknown key: create it and queue its pull, or refuse.
func (t *Table) miss(key uint64, gate MissGate) {
	if t.static {
		t.counters.refusedStatic.Add(1)
		return
	}
	if gate != nil && !gate.AdmitMiss() {
		t.counters.refusedLimited.Add(1)
		return
	}
	ks, created := t.getOrCreate(key, false)
	if ks == nil {
		return // counted by getOrCreate
	}
	if created {
		t.sendPull(ks, ks.pullAt.Load(), false)
	}
}

// getOrCreate returns the key's state, creating it if needed. A key created on
// demand (!static) starts with its pull in flight and no route, and counts against
// MaxKeys and MaxNoRouteKeys unless force. It returns nil, counted, when either
// refuses the key.
func (t *Table) getOrCreate(key uint64, force bool) (ks *keyState, created bool) {
	h := hashKey(key)
	sh := t.shardOf(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ks := sh.idx.Load().get(key, h>>t.shardBits); ks != nil {
		return ks, false
	}
	if n := t.keys.Add(1); n > t.maxKeys && !force {
		t.keys.Add(-1)
		t.counters.refusedMaxKeys.Add(1)
		return nil, false
	}
	if !force {
		if n := t.noRoute.Add(1); n > t.maxNoRt {
			t.noRoute.Add(-1)
			t.keys.Add(-1)
			t.counters.refusedNoRoute.Add(1)
			return nil, false
		}
	}
	now := t.now.Load()
	ks = &keyState{key: key, hash: h >> t.shardBits}
	ks.sets.Store(emptySets)
	t.setUpdated(ks, now, t.p.updateTimeout)
	ks.lastStatus.Store(math.MinInt64 / 2)
	if !force {
		ks.pull.Store(pullInFlight)
		ks.pullAt.Store(now)
		ks.noRoute.Store(true) // counted above
	}
	sh.insert(ks)
	return ks, true
}

// setNoRoute records whether the key has no hosts, for MaxNoRouteKeys. The caller
// holds ks.mu.
func (t *Table) setNoRoute(ks *keyState, noRoute bool) {
	if ks.noRoute.Load() == noRoute {
		return
	}
	ks.noRoute.Store(noRoute)
	if noRoute {
		t.noRoute.Add(1)
	} else {
		t.noRoute.Add(-1)
	}
}

// removeKey takes the key out of the table. The caller holds ks.mu.
func (t *Table) removeKey(ks *keyState) {
	t.setNoRoute(ks, false)
	ks.refreshAt.Store(math.MaxInt64) // a get still holding ks must not pull it
	ks.publish(t, emptySets)
	ks.removed = true
	ks.pull.Store(pullNone)
	sh := t.shardOf(hashKey(ks.key))
	sh.mu.Lock()
	removed := sh.remove(ks)
	if removed {
		t.keys.Add(-1)
	}
	sh.mu.Unlock()
	if removed {
		t.recordDropped(ks.key)
	}
}

// ApplyRoute installs an answer (or a push) of the route service for a key: hosts
// new to the key join the idle set with fresh counters, hosts gone leave, hosts kept
// keep their state and counters. An empty list removes the key. An answer for a key
// not in the table (never asked for) is ignored and counted. The key's pull is
// answered and its route fresh. A host listed twice counts once (the first). hosts is
// not retained.
func (t *Table) ApplyRoute(modid, cmdid int32, hosts []route.Host) {
	now := t.tick()
	ks := t.lookup(route.PackKey(modid, cmdid))
	if ks == nil {
		t.counters.answersIgnored.Add(1)
		return
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.removed {
		t.counters.answersIgnored.Add(1)
		return
	}
	ks.pull.Store(pullNone)
	if len(hosts) == 0 {
		if t.negTTL == 0 {
			t.removeKey(ks)
			return
		}
		// Negative cache: keep the key without hosts, pull it again after NegativeTTL.
		t.setNoRoute(ks, true)
		ks.negative.Store(true)
		t.setUpdated(ks, now, t.negTTL)
		ks.publish(t, emptySets) // mirrors refreshAt too
		return
	}
	ks.negative.Store(false)
	t.setNoRoute(ks, false)
	t.setUpdated(ks, now, t.p.updateTimeout)
	if !ks.apply(t, hosts, now) {
		t.mirror(ks)
	}
}

// ReplaceRoutes makes routes the whole table, as a routes file read at start or on
// reload: keys in routes are applied with ApplyRoute's keep/add/remove rules
// (created if needed, whatever MaxKeys), keys absent or with no hosts are removed.
// routes is not retained.
func (t *Table) ReplaceRoutes(routes map[route.Key][]route.Host) {
	t.replaceMu.Lock()
	defer t.replaceMu.Unlock()
	now := t.tick()
	for k, hosts := range routes {
		if len(hosts) == 0 {
			continue
		}
		for {
			ks, _ := t.getOrCreate(k.Pack(), true)
			ks.mu.Lock()
			if ks.removed { // removed meanwhile by an empty answer: create it again
				ks.mu.Unlock()
				continue
			}
			ks.negative.Store(false)
			t.setNoRoute(ks, false)
			t.setUpdated(ks, now, t.p.updateTimeout)
			if !ks.apply(t, hosts, now) {
				t.mirror(ks)
			}
			ks.mu.Unlock()
			break
		}
	}
	var gone []*keyState
	for i := range t.shards {
		t.shards[i].each(func(ks *keyState) {
			modid, cmdid := route.UnpackKey(ks.key)
			if len(routes[route.Key{Modid: modid, Cmdid: cmdid}]) == 0 {
				gone = append(gone, ks)
			}
		})
	}
	for _, ks := range gone {
		ks.mu.Lock()
		if !ks.removed {
			t.removeKey(ks)
		}
		ks.mu.Unlock()
	}
}

// expireNegative removes a negative key past NegativeTTL that nobody asked for since,
// and reports whether it did.
func (t *Table) expireNegative(ks *keyState, now int64) bool {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.removed || !ks.negative.Load() || now < ks.refreshAt.Load() || ks.pull.Load() != pullNone {
		return false
	}
	t.removeKey(ks)
	return true
}

// expireNoAnswer removes a key created on demand that has waited NoAnswerTTL for its
// first answer, and reports whether it did.
func (t *Table) expireNoAnswer(ks *keyState, now int64) bool {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.removed || !t.waitedTooLong(ks, now) {
		return false
	}
	t.removeKey(ks)
	t.counters.noAnswerExpired.Add(1)
	return true
}

// waitedTooLong reports whether the key has no route, has never been answered, and
// was created NoAnswerTTL or more before now.
func (t *Table) waitedTooLong(ks *keyState, now int64) bool {
	return t.noAnsTTL > 0 && ks.noRoute.Load() && !ks.negative.Load() && now-ks.updated.Load() >= t.noAnsTTL
}

// Sweep is the table's periodic work, to be called by the agent every so often
// (e.g. every 100ms; its period is the resolution of every timeout). It ticks the
// clock, queues again pulls that are unanswered after pull_timeout or were dropped
// by a full queue (a pull still waiting in the queue, never taken by the consumer,
// is not queued twice: its pull_timeout starts again instead), removes negative keys
// past NegativeTTL, moves hosts overloaded for overload_timeout back to idle even
// without reports, and queues the status of every key with new reports whose last
// status is at least report_interval old.
func (t *Table) Sweep() {
	now := t.tick()
	for i := range t.shards {
		t.shards[i].each(func(ks *keyState) { t.sweepKey(ks, now) })
	}
}

func (t *Table) sweepKey(ks *keyState, now int64) {
	if !t.static {
		switch ks.pull.Load() {
		case pullWanted:
			if t.waitedTooLong(ks, now) && t.expireNoAnswer(ks, now) {
				return
			}
			if ks.pull.CompareAndSwap(pullWanted, pullInFlight) {
				t.sendPull(ks, now, false)
			}
		case pullInFlight:
			if t.waitedTooLong(ks, now) && t.expireNoAnswer(ks, now) {
				return
			}
			if now-ks.pullAt.Load() >= t.p.pullTimeout {
				t.sendPull(ks, now, true)
			}
		case pullNone:
			if ks.negative.Load() && now >= ks.refreshAt.Load() && t.expireNegative(ks, now) {
				return
			}
		}
	}
	s := ks.sets.Load()
	expire := s.nOver > 0 || (s.regroupAt != 0 && now >= s.regroupAt)
	report := ks.dirty.Load() && now-ks.lastStatus.Load() >= t.p.reportInterval
	if !expire && !report {
		return
	}
	ks.mu.Lock()
	if ks.removed {
		ks.mu.Unlock()
		return
	}
	if expire {
		ks.expireOverloads(t, now)
	}
	if !report {
		ks.mu.Unlock()
		return
	}
	st := ks.status()
	ks.lastStatus.Store(now)
	ks.mu.Unlock()
	t.sendStatus(st)
}
