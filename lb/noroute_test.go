package lb

import (
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
)

// countingGate admits unknown keys while allow is set and counts its calls.
type countingGate struct {
	allow bool
	calls int
}

func (g *countingGate) AdmitMiss() bool { g.calls++; return g.allow }

// TestMaxNoRouteKeys: keys created on demand without hosts are bounded apart from
// MaxKeys; a key that gets hosts leaves the bound, one that loses them (negative)
// joins it again, and a removed key leaves it.
func TestMaxNoRouteKeys(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{MaxKeys: 100, MaxNoRouteKeys: 5, NegativeTTL: time.Second})
	for i := range int32(10) {
		tbl.GetHost(1, i)
	}
	if st := tbl.Stats(); st.Keys != 5 || st.NoRouteKeys != 5 || st.RefusedNoRoute != 5 || st.UnknownRefused != 5 {
		t.Fatalf("stats %+v", st)
	}
	tbl.ApplyRoute(1, 0, rhs([]Host{hostN(1)}))
	tbl.ApplyRoute(1, 1, rhs([]Host{hostN(1)}))
	tbl.ApplyRoute(1, 2, nil) // negative: still without a route
	for i := range int32(10) {
		tbl.GetHost(2, i)
	}
	if st := tbl.Stats(); st.Keys != 7 || st.NoRouteKeys != 5 || st.RefusedNoRoute != 13 {
		t.Fatalf("stats after two routes %+v", st)
	}
	tbl.ApplyRoute(1, 0, nil) // a real key loses its hosts: counted again
	if st := tbl.Stats(); st.NoRouteKeys != 6 {
		t.Fatalf("no-route keys %d after a route emptied, want 6", st.NoRouteKeys)
	}
	clk.Advance(2 * time.Second)
	tbl.Sweep() // 1/0 and 1/2 expire as negative keys
	if st := tbl.Stats(); st.Keys != 5 || st.NoRouteKeys != 4 {
		t.Fatalf("stats after negative expiry %+v", st)
	}
	tbl.ReplaceRoutes(routes(map[Key][]Host{{Modid: 1, Cmdid: 1}: {hostN(1)}}))
	if st := tbl.Stats(); st.Keys != 1 || st.NoRouteKeys != 0 {
		t.Fatalf("stats after a reload %+v", st)
	}
}

// TestNoAnswerTTL: a key that never gets an answer (the route service unreachable)
// is removed by the first Sweep NoAnswerTTL after its creation, counted and recorded
// as dropped; an answered key is not, nor a negative one before its own TTL.
func TestNoAnswerTTL(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{NoAnswerTTL: 10 * time.Second, NegativeTTL: time.Minute})
	tbl.TrackDropped(true)
	tbl.GetHost(1, 1) // never answered
	tbl.GetHost(2, 2) // answered with hosts
	tbl.GetHost(3, 3) // answered empty
	tbl.ApplyRoute(2, 2, rhs([]Host{hostN(1)}))
	tbl.ApplyRoute(3, 3, nil)
	clk.Advance(9 * time.Second)
	tbl.Sweep()
	if !tbl.Has(1, 1) {
		t.Fatal("key removed before NoAnswerTTL")
	}
	clk.Advance(time.Second)
	tbl.Sweep()
	if tbl.Has(1, 1) || !tbl.Has(2, 2) || !tbl.Has(3, 3) {
		t.Fatalf("after NoAnswerTTL: 1/1 %v (want gone), 2/2 %v, 3/3 %v", tbl.Has(1, 1), tbl.Has(2, 2), tbl.Has(3, 3))
	}
	if st := tbl.Stats(); st.NoAnswerExpired != 1 || st.NoRouteKeys != 1 || st.Keys != 2 {
		t.Fatalf("stats %+v", st)
	}
	if got := tbl.TakeDropped(nil); len(got) != 1 || got[0] != (Key{Modid: 1, Cmdid: 1}) {
		t.Fatalf("dropped %v, want 1/1", got)
	}

	never := newDynamic(clk, Config{NoAnswerTTL: -1})
	never.GetHost(1, 1)
	clk.Advance(time.Hour)
	never.Sweep()
	if !never.Has(1, 1) {
		t.Fatal("a negative NoAnswerTTL removed a key")
	}
}

// TestMissGate: the gate is asked only for keys the table does not hold, and a refusal
// creates nothing and is counted as rate limited.
func TestMissGate(t *testing.T) {
	tbl := newDynamic(newFakeClock(), Config{})
	g := &countingGate{}
	if _, rc := tbl.GetHostFrom(1, 1, g, true); rc != codec.RetNoExist {
		t.Fatalf("refused key answered %v", rc)
	}
	tbl.GetRouteFrom(1, 2, nil, g, true)
	if st := tbl.Stats(); st.Keys != 0 || st.RefusedLimited != 2 || st.PullsQueued != 0 || g.calls != 2 {
		t.Fatalf("stats %+v, gate calls %d", st, g.calls)
	}
	g.allow = true
	tbl.GetHostFrom(1, 1, g, true)
	tbl.ApplyRoute(1, 1, rhs([]Host{hostN(1)}))
	for range 5 {
		tbl.GetHostFrom(1, 1, g, true)
		tbl.GetRouteFrom(1, 1, nil, g, true)
	}
	if g.calls != 3 || !tbl.Has(1, 1) {
		t.Fatalf("gate asked %d times, want 3: never for a key held", g.calls)
	}
}
