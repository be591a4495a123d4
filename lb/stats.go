package lb

import (
	"cmp"
	"slices"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/route"
)

// counters are the table's event counts; see Stats for their meaning.
type counters struct {
	pullsQueued     atomic.Uint64
	pullsDropped    atomic.Uint64
	pullRetries     atomic.Uint64
	pullsSkipped    atomic.Uint64
	statusEmitted   atomic.Uint64
	statusDropped   atomic.Uint64
	refusedStatic   atomic.Uint64
	refusedMaxKeys  atomic.Uint64
	refusedNoRoute  atomic.Uint64
	refusedLimited  atomic.Uint64
	noAnswerExpired atomic.Uint64
	reportsIgnored  atomic.Uint64
	answersIgnored  atomic.Uint64
	panicPicks      atomic.Uint64
	crossZonePicks  atomic.Uint64
}

// Stats are the table's gauges and counters, for metrics.
type Stats struct {
	Keys            int64 // keys in the table, with or without hosts
	HostsIdle       int64 // idle hosts over every key
	HostsOverloaded int64 // overloaded hosts over every key

	PullsQueued    uint64 // pulls put on the Pulls queue, retries included
	PullsDropped   uint64 // pulls that found the queue full (queued again by Sweep)
	PullRetries    uint64 // pulls queued again after pull_timeout
	PullsSkipped   uint64 // retries not queued because the key was still waiting in the queue
	StatusEmitted  uint64 // statuses put on the Statuses queue
	StatusDropped  uint64 // statuses that found the queue full
	NoRouteKeys    int64  // keys created on demand that have no hosts (Config.MaxNoRouteKeys)
	UnknownRefused uint64 // gets for unknown keys not created, for any of the four causes below
	// Gets for unknown keys not created, by cause: a static table, MaxKeys reached,
	// MaxNoRouteKeys reached, the caller's MissGate (rate limited).
	RefusedStatic, RefusedMaxKeys, RefusedNoRoute, RefusedLimited uint64
	NoAnswerExpired                                               uint64 // keys removed after NoAnswerTTL without an answer
	ReportsIgnored                                                uint64 // reports for an unknown key or a host the key does not have
	AnswersIgnored                                                uint64 // route answers for a key not in the table
	PanicPicks                                                    uint64 // calls served in panic mode over every key (Policies.PanicThreshold)
	CrossZonePicks                                                uint64 // calls answered outside the agent's zone for lack of usable hosts in it (Config.Zone)
	DroppedLost                                                   uint64 // keys removed but not recorded for TakeDropped: the list was full
}

// Stats returns the current gauges and counters. Each is read atomically; together
// they are not one snapshot.
func (t *Table) Stats() Stats {
	c := &t.counters
	st := Stats{
		Keys:            t.keys.Load(),
		HostsIdle:       t.hostsIdle.Load(),
		HostsOverloaded: t.hostsOver.Load(),
		PullsQueued:     c.pullsQueued.Load(),
		PullsDropped:    c.pullsDropped.Load(),
		PullRetries:     c.pullRetries.Load(),
		PullsSkipped:    c.pullsSkipped.Load(),
		StatusEmitted:   c.statusEmitted.Load(),
		StatusDropped:   c.statusDropped.Load(),
		NoRouteKeys:     t.noRoute.Load(),
		RefusedStatic:   c.refusedStatic.Load(),
		RefusedMaxKeys:  c.refusedMaxKeys.Load(),
		RefusedNoRoute:  c.refusedNoRoute.Load(),
		RefusedLimited:  c.refusedLimited.Load(),
		NoAnswerExpired: c.noAnswerExpired.Load(),
		ReportsIgnored:  c.reportsIgnored.Load(),
		AnswersIgnored:  c.answersIgnored.Load(),
		PanicPicks:      c.panicPicks.Load(),
		CrossZonePicks:  c.crossZonePicks.Load(),
		DroppedLost:     t.dropped.lost.Load(),
	}
	st.UnknownRefused = st.RefusedStatic + st.RefusedMaxKeys + st.RefusedNoRoute + st.RefusedLimited
	return st
}

// KeyInfo describes one key of the table, for the admin endpoint.
type KeyInfo struct {
	route.Key
	Hosts     []HostInfo // sorted by address
	Updated   time.Time  // last route answer (or creation)
	Pulling   bool       // a pull is in flight or waiting for room in the queue
	Negative  bool       // answered with no hosts and kept for Config.NegativeTTL
	AccessCnt uint64     // access_cnt: calls since the last probe, while some host is overloaded
	Panic     bool       // fewer than panic_threshold percent of the hosts are idle (Policies)
	Panics    uint64     // calls of this key served in panic mode so far
	CrossZone bool       // get_host picks outside the agent's zone (Config.Zone): too few usable hosts in it
}

// HostInfo describes one host of a key and its balancing counters.
type HostInfo struct {
	Host       route.Host
	Overloaded bool
	Since      time.Time // when the host entered its state (for idle hosts: its window start)
	VSucc      uint32
	VErr       uint32
	RSucc      uint32
	RErr       uint32
	ContinSucc uint32
	ContinErr  uint32
	// Policies' state: calls in flight (p2c, ewma), the peak-EWMA latency (ewma),
	// the ejection count and the length of the current overload (growing ejection;
	// 0 when it is off).
	InFlight    uint32
	Latency     time.Duration
	Ejections   uint32
	OverloadFor time.Duration
}

// Walk calls f for every key of the table, in no particular order. Each KeyInfo is
// consistent for its key; keys added or removed during the walk may be missed. f runs
// without any of the table's locks held.
func (t *Table) Walk(f func(KeyInfo)) {
	for i := range t.shards {
		t.shards[i].each(func(ks *keyState) {
			if ki, ok := t.info(ks); ok {
				f(ki)
			}
		})
	}
}

// Snapshot returns every key of the table, sorted by modid then cmdid.
func (t *Table) Snapshot() []KeyInfo {
	var out []KeyInfo
	t.Walk(func(ki KeyInfo) { out = append(out, ki) })
	slices.SortFunc(out, func(a, b KeyInfo) int {
		if c := cmp.Compare(a.Modid, b.Modid); c != 0 {
			return c
		}
		return cmp.Compare(a.Cmdid, b.Cmdid)
	})
	return out
}

func (t *Table) info(ks *keyState) (KeyInfo, bool) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.removed {
		return KeyInfo{}, false
	}
	modid, cmdid := route.UnpackKey(ks.key)
	s := ks.sets.Load()
	ki := KeyInfo{
		Key:       route.Key{Modid: modid, Cmdid: cmdid},
		Hosts:     make([]HostInfo, len(s.state)),
		Updated:   t.timeOf(ks.updated.Load()),
		Pulling:   ks.pull.Load() != pullNone,
		Negative:  ks.negative.Load(),
		AccessCnt: ks.access.Load() % t.p.probe,
		Panic:     t.p.pol.panics(len(s.idle), len(s.over)),
		CrossZone: s.cross,
		Panics:    ks.panics.Load(),
	}
	now := t.now.Load()
	epoch := t.p.pol.epoch(now)
	for i, h := range s.state {
		ki.Hosts[i] = HostInfo{
			Host: s.host(i), Overloaded: h.overloaded, Since: t.timeOf(h.since),
			VSucc: h.vsucc, VErr: h.verr, RSucc: h.rsucc, RErr: h.rerr,
			ContinSucc: h.continSucc, ContinErr: h.continErr,
		}
		if x := h.x; x != nil {
			hi := &ki.Hosts[i]
			hi.InFlight, hi.Latency = x.load.outstanding(epoch), time.Duration(x.load.latency(now, t.p.pol.ewmaTau))
			hi.Ejections = x.ejections
			if h.overloaded && t.p.pol.backoff != 0 {
				hi.OverloadFor = time.Duration(x.overloadFor)
			}
		}
	}
	return ki, true
}
