package lb

import (
	"testing"
	"time"

	"github.com/larsgo/lars/route"
)

func TestSlowStartRampsNewHost(t *testing.T) {
	window := 30 * time.Second
	clk, tbl := newClocked(t, Config{Policies: Policies{SlowStart: window}}, weighted(1, 0, ""), weighted(2, 0, ""))
	// The key's first hosts start together at full weight.
	got, _ := shares(t, tbl, 200, true)
	wantShares(t, got, map[Host]float64{hostN(1): 0.5, hostN(2): 0.5}, 1e-9)

	tbl.ApplyRoute(tmod, tcmd, []route.Host{weighted(1, 0, ""), weighted(2, 0, ""), weighted(3, 0, "")})
	// At join: a tenth of its weight (10 against 100 and 100).
	got, _ = shares(t, tbl, 2100, true)
	wantShares(t, got, map[Host]float64{hostN(1): 100.0 / 210, hostN(2): 100.0 / 210, hostN(3): 10.0 / 210}, 1e-9)
	// Halfway: half its weight, once Sweep has rebuilt the wheel.
	clk.Advance(window / 2)
	tbl.Sweep()
	got, _ = shares(t, tbl, 2500, true)
	wantShares(t, got, map[Host]float64{hostN(1): 100.0 / 250, hostN(2): 100.0 / 250, hostN(3): 50.0 / 250}, 1e-9)
	// After the window: full weight, and no more rebuilding.
	clk.Advance(window / 2)
	tbl.Sweep()
	got, _ = shares(t, tbl, 300, true)
	wantShares(t, got, map[Host]float64{hostN(1): 1.0 / 3, hostN(2): 1.0 / 3, hostN(3): 1.0 / 3}, 1e-9)
	ks := tbl.lookup(PackKey(tmod, tcmd))
	if at := ks.sets.Load().regroupAt; at != 0 {
		t.Fatalf("regroupAt %d after the ramp, want 0", at)
	}
}

func TestSlowStartAfterRecovery(t *testing.T) {
	window := 10 * time.Second
	clk, tbl := newClocked(t, Config{Policies: Policies{SlowStart: window}}, weighted(1, 0, ""), weighted(2, 0, ""))
	overload(t, tbl, hostN(2))
	clk.Advance(DefaultSettings().OverloadTimeout)
	tbl.Sweep() // back to idle, ramping from a tenth
	got, _ := shares(t, tbl, 1100, true)
	wantShares(t, got, map[Host]float64{hostN(1): 100.0 / 110, hostN(2): 10.0 / 110}, 1e-9)
	clk.Advance(window)
	tbl.Sweep()
	got, _ = shares(t, tbl, 200, true)
	wantShares(t, got, map[Host]float64{hostN(1): 0.5, hostN(2): 0.5}, 1e-9)
}

func TestNoSlowStartByDefault(t *testing.T) {
	_, tbl := newClocked(t, Config{}, weighted(1, 0, ""))
	tbl.ApplyRoute(tmod, tcmd, []route.Host{weighted(1, 0, ""), weighted(2, 0, "")})
	got, _ := shares(t, tbl, 200, true)
	wantShares(t, got, map[Host]float64{hostN(1): 0.5, hostN(2): 0.5}, 1e-9)
}
