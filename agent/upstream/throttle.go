package upstream

import (
	"sync"
	"time"
)

// logEvery is how often a throttled log line may repeat (failed dials, bad frames).
const logEvery = 10 * time.Second

// throttle lets the first event through and then at most one per interval, counting
// the ones it held back so the next line can say how many there were.
type throttle struct {
	every time.Duration
	mu    sync.Mutex // guards last and held
	last  time.Time
	held  int
}

// allow reports whether an event at now may be logged, and how many events were held
// back since the last one that was.
func (t *throttle) allow(now time.Time) (ok bool, held int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.last.IsZero() && now.Sub(t.last) < t.every {
		t.held++
		return false, 0
	}
	t.last, held, t.held = now, t.held, 0
	return true, held
}

// reset makes the next event log at once (after a state change, e.g. reconnected).
func (t *throttle) reset() {
	t.mu.Lock()
	t.last = time.Time{}
	t.mu.Unlock()
}
