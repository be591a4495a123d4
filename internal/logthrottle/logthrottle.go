// Package logthrottle keeps a log line that may repeat fast (a failed dial, a bad
// frame) from flooding the log: the first event is logged, then at most one per
// interval, and the next line logged says how many were held back.
package logthrottle

import (
	"sync"
	"time"
)

// Throttle lets the first event through and then at most one per Every, counting the
// ones it held back so the next line can say how many there were. Its zero value lets
// every event through; set Every before first use. It is safe for concurrent use.
type Throttle struct {
	// Every is the shortest time between two events let through.
	Every time.Duration

	mu   sync.Mutex // guards last and held
	last time.Time
	held int
}

// Allow reports whether an event at now may be logged, and how many events were held
// back since the last one that was.
func (t *Throttle) Allow(now time.Time) (ok bool, held int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.last.IsZero() && now.Sub(t.last) < t.Every {
		t.held++
		return false, 0
	}
	t.last, held, t.held = now, t.held, 0
	return true, held
}

// Reset makes the next event log at once (after a state change, e.g. reconnected).
func (t *Throttle) Reset() {
	t.mu.Lock()
	t.last = time.Time{}
	t.mu.Unlock()
}
