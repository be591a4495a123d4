package routesvc

import (
	"testing"
	"time"
)

// TestNextPoll: polls start every Poll whatever a round took, and a round longer than
// Poll (many changes pushed to many agents) is followed by the next at once.
func TestNextPoll(t *testing.T) {
	for _, c := range []struct{ took, want time.Duration }{
		{0, time.Second},
		{300 * time.Millisecond, 700 * time.Millisecond},
		{time.Second, 0},
		{1200 * time.Millisecond, 0},
	} {
		if got := nextPoll(time.Second, c.took); got != c.want {
			t.Errorf("nextPoll(1s, %v) = %v, want %v", c.took, got, c.want)
		}
	}
}
