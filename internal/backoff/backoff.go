// Package backoff computes the delays between retries of something that failed:
// capped exponential, jittered so that many clients retrying at once spread out. The
// agent's clients reconnect with it, and the control-plane services retry their store.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Jitter says how a Backoff randomises its delays.
type Jitter uint8

// Jitter modes.
const (
	// EqualJitter draws each delay uniformly from [d/2, d], d being the capped
	// exponential delay: never less than half of it, so retries cannot bunch up at 0.
	EqualJitter Jitter = iota
	// FullJitter draws each delay uniformly from [0, d].
	FullJitter
	// NoJitter returns d itself.
	NoJitter
)

// Backoff computes capped exponential delays between attempts: the n-th delay since
// the last Reset is Min·2ⁿ, capped at Max, then jittered. It is not safe for
// concurrent use; each client owns one.
type Backoff struct {
	min, max time.Duration
	jitter   Jitter
	rnd      *rand.Rand // nil: the global source
	attempt  uint
}

// DefaultMin is the first delay of a Backoff made with a min of 0 or less.
const DefaultMin = 100 * time.Millisecond

// New returns a Backoff from min to max. A min of 0 or less means DefaultMin, a max
// below min means min. rnd, when not nil, makes the delays deterministic (tests);
// nil uses the concurrency-safe global source.
func New(minDelay, maxDelay time.Duration, jitter Jitter, rnd *rand.Rand) *Backoff {
	if minDelay <= 0 {
		minDelay = DefaultMin
	}
	if maxDelay < minDelay {
		maxDelay = minDelay
	}
	return &Backoff{min: minDelay, max: maxDelay, jitter: jitter, rnd: rnd}
}

// Next returns the delay before the next attempt and moves to the one after.
func (b *Backoff) Next() time.Duration {
	d := b.Cap()
	if d < b.max {
		b.attempt++
	}
	switch b.jitter {
	case FullJitter:
		return b.randN(d + 1)
	case EqualJitter:
		half := d / 2
		return d - half + b.randN(half+1)
	}
	return d
}

// Cap returns the un-jittered delay Next would draw from now: Min·2ⁿ capped at Max.
func (b *Backoff) Cap() time.Duration {
	d := b.min
	for i := uint(0); i < b.attempt && d < b.max; i++ {
		d *= 2
		if d <= 0 {
			return b.max
		}
	}
	return min(d, b.max)
}

// Reset starts over from Min, after a connection that proved healthy.
func (b *Backoff) Reset() { b.attempt = 0 }

func (b *Backoff) randN(n time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	if b.rnd != nil {
		return time.Duration(b.rnd.Int64N(int64(n)))
	}
	return time.Duration(rand.Int64N(int64(n)))
}
