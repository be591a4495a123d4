package lb

import (
	"slices"
	"testing"
	"time"
)

// TestTrackDropped: once tracking is on, every way a key leaves a dynamic table is
// recorded for TakeDropped, with a signal; nothing before tracking, nothing from a
// static table, and no more than MaxKeys waiting (the rest counted).
func TestTrackDropped(t *testing.T) {
	clk := newFakeClock()
	tbl := NewTable(Config{Clock: clk.Now, NegativeTTL: time.Second, MaxKeys: 3})
	tbl.GetHost(9, 9)
	tbl.ApplyRoute(9, 9, nil)
	clk.Advance(2 * time.Second)
	tbl.Sweep() // removed before tracking: not recorded
	signal := tbl.TrackDropped(true)
	if got := tbl.TakeDropped(nil); len(got) != 0 {
		t.Fatalf("dropped before tracking: %v", got)
	}

	tbl.GetHost(1, 1) // negative, then expired by a sweep past NegativeTTL
	tbl.ApplyRoute(1, 1, nil)
	if !tbl.Has(1, 1) {
		t.Fatal("negative key not held")
	}
	clk.Advance(2 * time.Second)
	tbl.Sweep()
	tbl.GetHost(2, 2) // removed by a reload that does not list it
	tbl.ApplyRoute(2, 2, rhs([]Host{hostN(1)}))
	tbl.ReplaceRoutes(routes(map[Key][]Host{{Modid: 3, Cmdid: 3}: {hostN(1)}}))
	select {
	case <-signal:
	default:
		t.Fatal("no signal for dropped keys")
	}
	if got, want := tbl.TakeDropped(nil), []Key{{Modid: 1, Cmdid: 1}, {Modid: 2, Cmdid: 2}}; !slices.Equal(got, want) {
		t.Fatalf("dropped %v, want %v", got, want)
	}
	if tbl.Has(1, 1) || tbl.Has(2, 2) || !tbl.Has(3, 3) {
		t.Fatal("Has disagrees with the table")
	}

	for i := range int32(5) { // MaxKeys 3 waiting at most
		tbl.GetHost(5, i)
		tbl.ApplyRoute(5, i, rhs([]Host{hostN(1)}))
		tbl.ReplaceRoutes(routes(map[Key][]Host{{Modid: 3, Cmdid: 3}: {hostN(1)}}))
	}
	if got := tbl.TakeDropped(nil); len(got) != 3 || tbl.Stats().DroppedLost != 2 {
		t.Fatalf("%d dropped waiting, %d lost; want 3 and 2", len(got), tbl.Stats().DroppedLost)
	}

	tbl.GetHost(6, 6)
	tbl.ApplyRoute(6, 6, rhs([]Host{hostN(1)}))
	tbl.ReplaceRoutes(routes(map[Key][]Host{{Modid: 3, Cmdid: 3}: {hostN(1)}}))
	tbl.TrackDropped(false) // forgets 6/6 and records no more
	tbl.GetHost(7, 7)
	tbl.ApplyRoute(7, 7, rhs([]Host{hostN(1)}))
	tbl.ReplaceRoutes(routes(map[Key][]Host{{Modid: 3, Cmdid: 3}: {hostN(1)}}))
	if got := tbl.TakeDropped(nil); len(got) != 0 {
		t.Fatalf("dropped after tracking stopped: %v", got)
	}

	static := NewTable(Config{Static: true})
	static.TrackDropped(true)
	static.ReplaceRoutes(routes(map[Key][]Host{{Modid: 1, Cmdid: 1}: {hostN(1)}}))
	static.ReplaceRoutes(routes(nil))
	if got := static.TakeDropped(nil); len(got) != 0 {
		t.Fatalf("a static table recorded %v", got)
	}
}
