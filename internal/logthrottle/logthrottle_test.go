package logthrottle

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	th := Throttle{Every: 10 * time.Second}
	t0 := time.Unix(1000, 0)
	check := func(at time.Duration, wantOK bool, wantHeld int) {
		t.Helper()
		ok, held := th.Allow(t0.Add(at))
		if ok != wantOK || held != wantHeld {
			t.Fatalf("at %v: allow %v held %d, want %v %d", at, ok, held, wantOK, wantHeld)
		}
	}
	check(0, true, 0)
	check(time.Second, false, 0)
	check(9*time.Second, false, 0)
	check(10*time.Second, true, 2)
	check(11*time.Second, false, 0)
	th.Reset()
	check(12*time.Second, true, 1)
}
