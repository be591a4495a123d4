package console

import (
	"sync"
	"time"
)

// Rate is a token bucket's refill: Burst tokens at most, one more every Every.
type Rate struct {
	Burst int
	Every time.Duration
}

// Default login rates: failed logins per client address and per account name.
var (
	DefaultClientRate  = Rate{Burst: 10, Every: 6 * time.Second}
	DefaultAccountRate = Rate{Burst: 5, Every: 30 * time.Second}
)

// maxBuckets bounds each table of buckets.
const maxBuckets = 10000

// bucketTable holds one token bucket per key (a client address, an account name),
// bounded: a full bucket carries no state and is forgotten first.
type bucketTable struct {
	mu   sync.Mutex
	rate Rate
	max  int
	m    map[string]bucket
}

// bucket is a key's tokens as of at.
type bucket struct {
	tokens float64
	at     time.Time
}

// newBucketTable returns an empty table refilling at rate.
func newBucketTable(rate Rate, max int) *bucketTable {
	return &bucketTable{rate: rate, max: max, m: make(map[string]bucket)}
}

// level returns key's tokens at now.
func (t *bucketTable) level(key string, now time.Time) float64 {
	b, ok := t.m[key]
	if !ok {
		return float64(t.rate.Burst)
	}
	if d := now.Sub(b.at); d > 0 && t.rate.Every > 0 {
		b.tokens += float64(d) / float64(t.rate.Every)
	}
	return min(b.tokens, float64(t.rate.Burst))
}

// allowed reports whether key has a token left at now.
func (t *bucketTable) allowed(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.level(key, now) >= 1
}

// take removes one of key's tokens at now (a failed attempt).
func (t *bucketTable) take(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	level := t.level(key, now)
	if _, ok := t.m[key]; !ok && len(t.m) >= t.max {
		t.evict(now)
	}
	t.m[key] = bucket{tokens: max(level-1, 0), at: now}
}

// evict forgets the buckets full again at now, or, if none is, any one.
func (t *bucketTable) evict(now time.Time) {
	for k := range t.m {
		if t.level(k, now) >= float64(t.rate.Burst) {
			delete(t.m, k)
		}
	}
	for k := range t.m {
		if len(t.m) < t.max {
			return
		}
		delete(t.m, k)
	}
}
