package api_test

import (
	"context"
	"testing"
	"time"
)

// TestSequentialCallsNeverMissTheirAnswer makes thousands of uncontended calls, each
// sent from inside the read that waits for its answer: an answer that arrives before
// the caller parks must still wake it. (Sending first and parking without a read
// attempt loses such an answer: the runtime forgets readiness when a read begins; a
// build doing that failed here within a few thousand calls.)
func TestSequentialCallsNeverMissTheirAnswer(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	a.SetRoute(1, 1, hostFor(1, 1))
	calls := 5000
	if testing.Short() {
		calls = 1000
	}
	start := time.Now()
	for i := range calls {
		h, err := c.GetHost(context.Background(), 1, 1)
		if err != nil || h != hostFor(1, 1) {
			t.Fatalf("call %d = %v, %v after %v", i, h, err, time.Since(start))
		}
	}
	if st := c.Stats(); st.Sent != uint64(calls) || st.Timeouts != 0 {
		t.Fatalf("stats %+v, want %d sent and no timeout", st, calls)
	}
}
