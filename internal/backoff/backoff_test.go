package backoff

import (
	"math/rand/v2"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestBackoffGrowsAndCaps(t *testing.T) {
	b := New(10*ms, 100*ms, NoJitter, nil)
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
			b := New(10*ms, time.Second, tc.jitter, rand.New(rand.NewPCG(1, 2)))
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
	a := New(10*ms, time.Second, EqualJitter, rand.New(rand.NewPCG(7, 7)))
	b := New(10*ms, time.Second, EqualJitter, rand.New(rand.NewPCG(7, 7)))
	for i := range 20 {
		if x, y := a.Next(), b.Next(); x != y {
			t.Fatalf("delay %d: %v and %v from the same seed", i, x, y)
		}
	}
}

func TestBackoffDefaultsAndOverflow(t *testing.T) {
	b := New(0, 0, NoJitter, nil)
	if got := b.Next(); got != DefaultMin {
		t.Fatalf("zero config: %v, want %v", got, DefaultMin)
	}
	b = New(time.Hour, 1<<62, NoJitter, nil)
	for range 100 {
		if d := b.Next(); d <= 0 || d > 1<<62 {
			t.Fatalf("delay %v out of range", d)
		}
	}
}
