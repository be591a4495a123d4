package agent

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// sourceWays is the number of sources one set of the limiter holds: a source new to a
// full set takes the place of the one of its set seen longest ago.
const sourceWays = 8

// sourceLimiter is a token bucket per source for the unknown keys a source may make the
// agent create (and pull from the route service): rate keys a second, in bursts of as
// many. It remembers a bounded number of sources in a set-associative table, so that
// its memory does not depend on the traffic; a source forgotten to make room starts
// again with a full bucket (counted). A source is an address and port on loopback (the
// agent's usual clients, every one of them 127.0.0.1) and an address elsewhere (a
// remote host may use any number of ports). Safe for concurrent use; allow does not
// allocate.
type sourceLimiter struct {
	perNs   float64 // tokens a nanosecond
	burst   float64
	seed    maphash.Seed
	sets    []sourceSet
	mask    uint64
	base    time.Time
	clock   func() time.Time
	limited atomic.Uint64 // keys refused
	evicted atomic.Uint64 // sources forgotten to make room for another
}

type sourceSet struct {
	mu   sync.Mutex
	ways [sourceWays]sourceEntry
}

type sourceEntry struct {
	id     sourceID
	used   bool
	tokens float64
	last   int64 // limiter time (ns since base) of the last refill
}

// sourceID is what the limiter tells sources apart by.
type sourceID struct {
	addr [16]byte
	port uint16
}

// newSourceLimiter returns a limiter of rate keys a second per source for about
// sources sources (rounded up to whole sets, a power of two of them). clock nil is
// time.Now.
func newSourceLimiter(rate, sources int, clock func() time.Time) *sourceLimiter {
	sets := 1
	for sets*sourceWays < sources {
		sets *= 2
	}
	if clock == nil {
		clock = time.Now
	}
	return &sourceLimiter{
		perNs: float64(rate) / float64(time.Second), burst: float64(rate),
		seed: maphash.MakeSeed(), sets: make([]sourceSet, sets), mask: uint64(sets - 1),
		base: clock(), clock: clock,
	}
}

// sourceOf returns the limiter's identity of the source ap.
func sourceOf(ap netip.AddrPort) sourceID {
	ip := ap.Addr().Unmap()
	id := sourceID{addr: ip.As16()}
	if ip.IsLoopback() {
		id.port = ap.Port()
	}
	return id
}

// allow takes one token from the source's bucket and reports whether there was one.
func (l *sourceLimiter) allow(ap netip.AddrPort) bool {
	id := sourceOf(ap)
	var b [18]byte
	copy(b[:], id.addr[:])
	b[16], b[17] = byte(id.port), byte(id.port>>8)
	set := &l.sets[maphash.Bytes(l.seed, b[:])&l.mask]
	now := int64(l.clock().Sub(l.base))

	set.mu.Lock()
	e := set.find(id)
	if e == nil {
		e = set.oldest()
		if e.used {
			l.evicted.Add(1)
		}
		*e = sourceEntry{id: id, used: true, tokens: l.burst, last: now}
	} else if now > e.last {
		e.tokens = min(l.burst, e.tokens+float64(now-e.last)*l.perNs)
		e.last = now
	}
	ok := e.tokens >= 1
	if ok {
		e.tokens--
	}
	set.mu.Unlock()
	if !ok {
		l.limited.Add(1)
	}
	return ok
}

// find returns the set's entry of id, or nil.
func (s *sourceSet) find(id sourceID) *sourceEntry {
	for i := range s.ways {
		if e := &s.ways[i]; e.used && e.id == id {
			return e
		}
	}
	return nil
}

// oldest returns an unused entry of the set, or else the one refilled longest ago.
func (s *sourceSet) oldest() *sourceEntry {
	o := &s.ways[0]
	for i := range s.ways {
		e := &s.ways[i]
		if !e.used {
			return e
		}
		if e.last < o.last {
			o = e
		}
	}
	return o
}
