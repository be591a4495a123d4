package upstream

import (
	"math/rand/v2"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestBackoffGrowsAndCaps(t *testing.T) {
	b := NewBackoff(10*ms, 100*ms, NoJitter, nil)
	want := []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 100 * ms, 100 * ms, 100 * ms}
	for i, w := range want {
		if got := b.Next(); got != w {
			t.Fatalf("delay %d: %v, want %v", i, got, w)
		}
	}
	b.Reset()
	if got := b.Next(); got != 10*ms {
		t.Fatalf("after Reset: %v, want 10ms", got)
	}
}

func TestBackoffJitterBounds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		jitter Jitter
		lo     func(d time.Duration) time.Duration
	}{
		{"equal", EqualJitter, func(d time.Duration) time.Duration { return d - d/2 }},
		{"full", FullJitter, func(time.Duration) time.Duration { return 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBackoff(10*ms, time.Second, tc.jitter, rand.New(rand.NewPCG(1, 2)))
			distinct := map[time.Duration]bool{}
			for i := range 200 {
				d := b.Cap()
				got := b.Next()
				if got < tc.lo(d) || got > d {
					t.Fatalf("delay %d: %v outside [%v, %v]", i, got, tc.lo(d), d)
				}
				distinct[got] = true
				if i%20 == 19 {
					b.Reset()
				}
			}
			if len(distinct) < 100 {
				t.Fatalf("only %d distinct delays in 200: jitter too weak", len(distinct))
			}
		})
	}
}

func TestBackoffDeterministicWithSeed(t *testing.T) {
	a := NewBackoff(10*ms, time.Second, EqualJitter, rand.New(rand.NewPCG(7, 7)))
	b := NewBackoff(10*ms, time.Second, EqualJitter, rand.New(rand.NewPCG(7, 7)))
	for i := range 20 {
		if x, y := a.Next(), b.Next(); x != y {
			t.Fatalf("delay %d: %v and %v from the same seed", i, x, y)
		}
	}
}

func TestBackoffDefaultsAndOverflow(t *testing.T) {
	b := NewBackoff(0, 0, NoJitter, nil)
	if got := b.Next(); got != DefaultMinBackoff {
		t.Fatalf("zero config: %v, want %v", got, DefaultMinBackoff)
	}
	b = NewBackoff(time.Hour, 1<<62, NoJitter, nil)
	for range 100 {
		if d := b.Next(); d <= 0 || d > 1<<62 {
			t.Fatalf("delay %v out of range", d)
		}
	}
}

func TestThrottle(t *testing.T) {
	th := throttle{every: 10 * time.Second}
	t0 := time.Unix(1000, 0)
	check := func(at time.Duration, wantOK bool, wantHeld int) {
		t.Helper()
		ok, held := th.allow(t0.Add(at))
		if ok != wantOK || held != wantHeld {
			t.Fatalf("at %v: allow %v held %d, want %v %d", at, ok, held, wantOK, wantHeld)
		}
	}
	check(0, true, 0)
	check(time.Second, false, 0)
	check(9*time.Second, false, 0)
	check(10*time.Second, true, 2)
	check(11*time.Second, false, 0)
	th.reset()
	check(12*time.Second, true, 1)
}
