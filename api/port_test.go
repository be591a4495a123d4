package api_test

import (
	"context"
	"math"
	"testing"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
)

func TestPortIndex(t *testing.T) {
	f := func(modid, cmdid int32, n, want int) {
		t.Helper()
		if got := api.PortIndex(modid, cmdid, n); got != want {
			t.Errorf("PortIndex(%d, %d, %d) = %d, want %d", modid, cmdid, n, got, want)
		}
	}
	f(0, 0, 3, 0)
	f(1, 0, 3, 1)
	f(1, 1, 3, 2)
	f(1, 2, 3, 0)
	f(10001, 1, 3, 0)
	f(5, 5, 1, 0)
	f(-1, 0, 3, 2)                        // non-negative modulo
	f(-5, 1, 3, 2)                        // -4 mod 3
	f(math.MaxInt32, math.MaxInt32, 3, 2) // 4294967294 mod 3: no int32 overflow
	f(math.MinInt32, math.MinInt32, 3, 2) // -4294967296 mod 3
	f(math.MinInt32, math.MaxInt32, 3, 2) // -1 mod 3
	f(7, 0, 5, 2)
}

// TestPortSelection checks against the fake agent that every request for a key goes to
// the port the Lars API would pick.
func TestPortSelection(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	ports := a.Ports()
	keys := [][2]int32{{1, 1}, {1, 2}, {1, 3}, {2, 2}, {-1, 0}, {-7, 3}, {math.MaxInt32, 1}}
	for _, k := range keys {
		a.SetRoute(k[0], k[1], hostFor(k[0], k[1]))
		if _, err := c.GetHost(context.Background(), k[0], k[1]); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetRoute(context.Background(), k[0], k[1], nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Report(k[0], k[1], hostFor(k[0], k[1]), 0); err != nil {
			t.Fatal(err)
		}
	}
	if !a.WaitCount(codec.MsgReportRequest, uint64(len(keys)), patience) {
		t.Fatal("reports did not arrive")
	}
	for _, r := range a.Requests() {
		want := ports[api.PortIndex(r.Modid, r.Cmdid, len(ports))]
		if r.Port != want || c.Port(r.Modid, r.Cmdid) != want {
			t.Errorf("%v for key (%d, %d) on port %d, want %d", r.MsgID, r.Modid, r.Cmdid, r.Port, want)
		}
	}
	if n := len(a.Requests()); n != 3*len(keys) {
		t.Errorf("agent got %d requests, want %d", n, 3*len(keys))
	}
}
