package daemon

import "testing"

func TestConnsAllowedLeavesDescriptorsForTheRest(t *testing.T) {
	for _, c := range []struct {
		limit   uint64
		ceiling int
		want    int
	}{
		{20000, 65536, 20000 - connReserve},
		{1 << 20, 65536, 65536},
		{1024, 65536, 1024 - connReserve},
		{256, 65536, 128},
		{1, 65536, 1},
		{20000, 10, 10},
	} {
		if got := connsAllowed(c.limit, c.ceiling); got != c.want {
			t.Errorf("connsAllowed(%d, %d) = %d, want %d", c.limit, c.ceiling, got, c.want)
		}
	}
}
