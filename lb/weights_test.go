package lb

import (
	"math"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/route"
)

// weighted returns hostN(n) with weight w (and zone z when not "").
func weighted(n int, w uint32, z string) route.Host {
	return route.Host{Addr: hostN(n), Weight: w, Zone: z}
}

// newTableOf returns a static table holding key (tmod, tcmd) with hosts.
func newTableOf(t testing.TB, cfg Config, hosts ...route.Host) *Table {
	t.Helper()
	tbl := NewTable(cfg)
	tbl.ReplaceRoutes(map[Key][]route.Host{{Modid: tmod, Cmdid: tcmd}: hosts})
	return tbl
}

// shares makes n gets and returns the share of the calls each host got, and how
// many were refused.
func shares(t *testing.T, tbl *Table, n int, ipv6 bool) (map[Host]float64, int) {
	t.Helper()
	got := map[Host]float64{}
	refused := 0
	for range n {
		h, ret := tbl.GetHostFrom(tmod, tcmd, nil, ipv6)
		if ret != codec.RetSucc {
			refused++
			continue
		}
		got[h]++
	}
	for h := range got {
		got[h] /= float64(n)
	}
	return got, refused
}

// wantShares checks each host's share against want within tol (absolute).
func wantShares(t *testing.T, got map[Host]float64, want map[Host]float64, tol float64) {
	t.Helper()
	for h, w := range want {
		if math.Abs(got[h]-w) > tol {
			t.Errorf("%v: share %.4f, want %.4f +- %.3f (all: %v)", h, got[h], w, tol, got)
		}
	}
	for h := range got {
		if _, ok := want[h]; !ok {
			t.Errorf("%v: share %.4f, want none", h, got[h])
		}
	}
}

func TestWeightedSharesRoundRobin(t *testing.T) {
	tbl := newTableOf(t, Config{Clock: newFakeClock().Now, Static: true},
		weighted(1, 100, ""), weighted(2, 200, ""), weighted(3, 400, ""))
	got, refused := shares(t, tbl, 7000, true)
	if refused != 0 {
		t.Fatalf("%d calls refused", refused)
	}
	// Round robin over the wheel: exact over whole cycles.
	wantShares(t, got, map[Host]float64{hostN(1): 1.0 / 7, hostN(2): 2.0 / 7, hostN(3): 4.0 / 7}, 1e-9)
}

func TestWeightDefaultsEqual(t *testing.T) {
	// A host without a weight weighs DefaultWeight: a key mixing both still spreads
	// by weight, and a key of hosts without weights is Lars's round robin.
	tbl := newTableOf(t, Config{Clock: newFakeClock().Now, Static: true},
		weighted(1, 0, ""), weighted(2, 300, ""))
	got, _ := shares(t, tbl, 4000, true)
	wantShares(t, got, map[Host]float64{hostN(1): 0.25, hostN(2): 0.75}, 1e-9)
}

func TestWeightedWithOverloadedHostAndProbes(t *testing.T) {
	clk := newFakeClock()
	tbl := newTableOf(t, Config{Clock: clk.Now, Static: true},
		weighted(1, 100, ""), weighted(2, 200, ""), weighted(3, 400, ""), weighted(4, 100, ""))
	overload(t, tbl, hostN(3))
	// probe_num 10: every 11th call probes the overloaded host; the other ten spread
	// over the idle ones by weight (1:2:1).
	got, refused := shares(t, tbl, 11*400, true)
	if refused != 0 {
		t.Fatalf("%d calls refused", refused)
	}
	wantShares(t, got, map[Host]float64{
		hostN(3): 1.0 / 11,
		hostN(1): 10.0 / 11 * 0.25, hostN(2): 10.0 / 11 * 0.5, hostN(4): 10.0 / 11 * 0.25,
	}, 0.002)
}

func TestWeightedPanicModeSpreadsByWeight(t *testing.T) {
	clk := newFakeClock()
	tbl := NewTable(Config{Clock: clk.Now, Static: true, Policies: Policies{PanicThreshold: 50}})
	tbl.ReplaceRoutes(map[Key][]route.Host{{Modid: tmod, Cmdid: tcmd}: {
		weighted(1, 100, ""), weighted(2, 300, ""), weighted(3, 100, ""), weighted(4, 100, "")}})
	overload(t, tbl, hostN(2))
	overload(t, tbl, hostN(3))
	overload(t, tbl, hostN(4))
	// 1 of 4 idle: panic mode spreads over every host, overloaded or not, by weight.
	got, refused := shares(t, tbl, 6000, true)
	if refused != 0 {
		t.Fatalf("%d calls refused in panic mode", refused)
	}
	wantShares(t, got, map[Host]float64{hostN(1): 1.0 / 6, hostN(2): 3.0 / 6, hostN(3): 1.0 / 6, hostN(4): 1.0 / 6}, 1e-9)
}

func TestWeightedP2CFollowsWeights(t *testing.T) {
	for _, pick := range []Policy{PolicyP2C, PolicyEWMA} {
		t.Run(pick.String(), func(t *testing.T) {
			clk := newFakeClock()
			tbl := NewTable(Config{Clock: clk.Now, Static: true, Policies: Policies{Pick: pick}})
			tbl.ReplaceRoutes(map[Key][]route.Host{{Modid: tmod, Cmdid: tcmd}: {
				weighted(1, 100, ""), weighted(2, 400, "")}})
			// Every call reported at once, so no host has calls in flight: the two
			// candidates are drawn by weight and tie, so the first one drawn wins.
			n := 20000
			count := map[Host]int{}
			for range n {
				h, ret := tbl.GetHost(tmod, tcmd)
				if ret != codec.RetSucc {
					t.Fatalf("ret %v", ret)
				}
				count[h]++
				tbl.ReportLatency(tmod, tcmd, h, 0, time.Millisecond)
			}
			heavy := float64(count[hostN(2)]) / float64(n)
			if heavy < 0.7 || heavy > 0.9 {
				t.Fatalf("weight-4 host got %.3f of the calls, want about 0.8: %v", heavy, count)
			}
		})
	}
}

func TestWeightChangeKeepsHostState(t *testing.T) {
	clk := newFakeClock()
	tbl := NewTable(Config{Clock: clk.Now})
	tbl.GetHost(tmod, tcmd)
	tbl.ApplyRoute(tmod, tcmd, rh(hostN(1), hostN(2)))
	overload(t, tbl, hostN(2))
	tbl.ApplyRoute(tmod, tcmd, []route.Host{weighted(1, 100, ""), weighted(2, 500, "z")})
	hi := hostInfo(t, tbl, hostN(2))
	if !hi.Overloaded || hi.Host.Weight != 500 || hi.Host.Zone != "z" {
		t.Fatalf("after a weight change: %+v, want still overloaded with weight 500 and zone z", hi)
	}
	got := tbl.GetRoute(tmod, tcmd, nil)
	if len(got) != 2 || got[1] != weighted(2, 500, "z") || got[0] != weighted(1, 100, "") {
		t.Fatalf("GetRoute = %v", got)
	}
}

// newClocked returns a fake clock and a table fed by a route service (not static)
// with cfg, holding key (tmod, tcmd) with hosts.
func newClocked(t *testing.T, cfg Config, hosts ...route.Host) (*fakeclock.Clock, *Table) {
	t.Helper()
	clk := newFakeClock()
	cfg.Clock = clk.Now
	tbl := NewTable(cfg)
	tbl.GetHost(tmod, tcmd)
	tbl.ApplyRoute(tmod, tcmd, hosts)
	return clk, tbl
}
