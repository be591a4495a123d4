package route

import (
	"math"
	"testing"
)

func TestPackKeyOrderAndRoundTrip(t *testing.T) {
	keys := []Key{{0, 0}, {0, 1}, {0, math.MaxInt32}, {1, 0}, {math.MaxInt32, math.MaxInt32}, {-1, 5}}
	for i, k := range keys {
		if m, c := UnpackKey(k.Pack()); m != k.Modid || c != k.Cmdid {
			t.Fatalf("UnpackKey(Pack(%v)) = %d, %d", k, m, c)
		}
		if i > 0 && CompareKeys(keys[i-1], k) >= 0 {
			t.Fatalf("CompareKeys(%v, %v) >= 0: negative ids sort last, as unsigned", keys[i-1], k)
		}
	}
	if s := (Key{7, 42}).String(); s != "7/42" {
		t.Fatalf("String = %q", s)
	}
}

func TestParseKey(t *testing.T) {
	if k, err := ParseKey(" 1", "2147483647"); err != nil || k != (Key{1, math.MaxInt32}) {
		t.Fatalf("ParseKey = %v, %v", k, err)
	}
	for _, bad := range [][2]string{{"-1", "1"}, {"1", "2147483648"}, {"x", "1"}, {"1", ""}} {
		if _, err := ParseKey(bad[0], bad[1]); err == nil {
			t.Errorf("ParseKey(%q, %q) accepted", bad[0], bad[1])
		}
	}
}
