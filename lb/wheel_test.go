package lb

import (
	"testing"
)

func TestBuildWheelShares(t *testing.T) {
	if w := buildWheel([]uint32{100, 100, 100}); w != nil {
		t.Fatalf("equal weights: wheel %v, want nil", w)
	}
	w := buildWheel([]uint32{100, 200, 400})
	if len(w) != 7 {
		t.Fatalf("1:2:4 wheel has %d turns, want 7: %v", len(w), w)
	}
	count := [3]int{}
	for _, h := range w {
		count[h]++
	}
	if count != [3]int{1, 2, 4} {
		t.Fatalf("turns per host %v, want [1 2 4]", count)
	}
	for i := 1; i < len(w); i++ {
		if w[i] == 0 && w[i-1] == 0 {
			t.Fatalf("weight-1 host twice in a row: %v", w)
		}
	}
	// No run longer than the heavy host's fair run: 4 of 7 never come 3 in a row.
	run := 0
	for _, h := range w {
		if h == 2 {
			run++
		} else {
			run = 0
		}
		if run > 2 {
			t.Fatalf("weight-4 host %d times in a row: %v", run, w)
		}
	}
}

func TestBuildWheelScalesDown(t *testing.T) {
	w := buildWheel([]uint32{1, 10000, 9999})
	if len(w) > maxWheel+3 {
		t.Fatalf("wheel of %d turns, over the bound", len(w))
	}
	count := [3]int{}
	for _, h := range w {
		count[h]++
	}
	if count[0] < 1 {
		t.Fatal("the weight-1 host lost its turn")
	}
	if d := count[1] - count[2]; d < -1 || d > 1 {
		t.Fatalf("hosts of weight 10000 and 9999 got %d and %d turns", count[1], count[2])
	}
	many := make([]uint32, 3000)
	for i := range many {
		many[i] = uint32(1 + i%2)
	}
	if w := buildWheel(many); len(w) < 3000 {
		t.Fatalf("3000 hosts: wheel of %d turns, some host has none", len(w))
	}
}
