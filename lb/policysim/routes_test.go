package policysim

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/loadgen/hostmodel"
	"github.com/larsgo/lars/route"
)

// featureRow is one run of the route-feature comparison: a workload under policies.
type featureRow struct {
	workload, setting string
	w                 Workload
	pol               lb.Policies
}

// withWeights returns hosts with the given weights.
func withWeights(hosts []route.Host, weights ...uint32) []route.Host {
	out := make([]route.Host, len(hosts))
	for i, h := range hosts {
		out[i] = h
		out[i].Weight = weights[i]
	}
	return out
}

// capacities returns a Capacity map giving hosts[i] caps[i].
func capacities(hosts []route.Host, caps ...int) map[netip.AddrPort]int {
	m := map[netip.AddrPort]int{}
	for i, h := range hosts {
		m[h.Addr] = caps[i]
	}
	return m
}

// featureRows are the workloads of docs/performance-notes.md "Weights, slow start and
// zones": (d) three hosts of capacities 1:2:4, with and without weights that say so;
// (e) a fifth host joining cold (its capacity growing from a tenth over 20 s) while
// four carry the load, with and without slow start; (f) six hosts in two zones, a
// call across zones 10 ms slower, the agent in zone a or in none.
func featureRows() []featureRow {
	base := hostmodel.Behaviour{Latency: 20 * time.Millisecond, Spread: 0.3}
	model := hostmodel.Model{Default: base}

	unequal := simHosts(3)
	unequalCap := capacities(unequal, 8, 16, 32)
	weighted := withWeights(unequal, 100, 200, 400)

	warm := simHosts(5)
	cold := warm[4]
	warm = warm[:4]
	joinCap := capacities(append(warm, cold), 12, 12, 12, 12, 12)
	join := []Join{{At: 10 * time.Second, Host: cold, WarmUp: 20 * time.Second}}
	window := Span{From: 10 * time.Second, Len: 30 * time.Second}

	zoned := simHosts(6)
	for i := range zoned {
		zoned[i].Zone = "a"
		if i >= 3 {
			zoned[i].Zone = "b"
		}
	}
	fast := hostmodel.Model{Default: hostmodel.Behaviour{Latency: 5 * time.Millisecond, Spread: 0.3}}

	d, e, f := "d: hosts of capacity 1:2:4", "e: a host joining cold", "f: two zones, 10 ms apart"
	return []featureRow{
		{d, "rr, no weights (Lars)", Workload{Hosts: unequal, Model: model, Capacity: unequalCap, Seed: 4}, lb.Policies{}},
		{d, "rr, weights 1:2:4", Workload{Hosts: weighted, Model: model, Capacity: unequalCap, Seed: 4}, lb.Policies{}},
		{d, "p2c, no weights", Workload{Hosts: unequal, Model: model, Capacity: unequalCap, Seed: 4}, lb.Policies{Pick: lb.PolicyP2C}},
		{d, "p2c, weights 1:2:4", Workload{Hosts: weighted, Model: model, Capacity: unequalCap, Seed: 4}, lb.Policies{Pick: lb.PolicyP2C}},
		{e, "no slow start (Lars)", Workload{Hosts: warm, Model: model, Capacity: joinCap, Joins: join, Window: window, Duration: 40 * time.Second, Seed: 5}, lb.Policies{}},
		{e, "slow_start 30s", Workload{Hosts: warm, Model: model, Capacity: joinCap, Joins: join, Window: window, Duration: 40 * time.Second, Seed: 5}, lb.Policies{SlowStart: 30 * time.Second}},
		{f, "no zone (Lars)", Workload{Hosts: zoned, Model: fast, AgentZone: "a", CrossZone: 10 * time.Millisecond, Seed: 6}, lb.Policies{}},
		{f, "agent zone a", Workload{Hosts: zoned, Model: fast, Zone: "a", AgentZone: "a", CrossZone: 10 * time.Millisecond, Seed: 6}, lb.Policies{}},
	}
}

// TestPolicyComparisonRouteFeatures runs each feature workload with and without the feature
// and checks the effect each is for; with -v it prints the table of
// docs/performance-notes.md.
func TestPolicyComparisonRouteFeatures(t *testing.T) {
	var table strings.Builder
	fmt.Fprintf(&table, "| workload | setting | refused | failed | p50 | p99 | in window: failed, p99 | in zone |\n|---|---|---|---|---|---|---|---|\n")
	res := map[string]Result{}
	for _, r := range featureRows() {
		got := Run(r.w, r.pol)
		res[r.workload+"/"+r.setting] = got
		window, zone := "", ""
		if r.w.Window.Len > 0 {
			window = fmt.Sprintf("%d, %v", got.WindowFailed, got.WindowP99.Round(100*time.Microsecond))
		}
		if r.w.AgentZone != "" {
			zone = fmt.Sprintf("%.1f%%", 100*float64(got.InZone)/float64(got.Calls-got.Refused))
		}
		fmt.Fprintf(&table, "| %s | %s | %d | %d | %v | %v | %s | %s |\n", r.workload, r.setting, got.Refused, got.Failed,
			got.P50.Round(100*time.Microsecond), got.P99.Round(100*time.Microsecond), window, zone)
	}
	t.Log("\n" + table.String())

	plain, weighted := res["d: hosts of capacity 1:2:4/rr, no weights (Lars)"], res["d: hosts of capacity 1:2:4/rr, weights 1:2:4"]
	if weighted.Failed*2 > plain.Failed || weighted.P99 >= plain.P99 {
		t.Errorf("capacity 1:2:4: weights failed %d calls, p99 %v; want well under equal shares' %d, %v", weighted.Failed, weighted.P99, plain.Failed, plain.P99)
	}
	small := simHosts(1)[0].Addr
	if share := float64(weighted.PerHost[small]) / float64(weighted.Calls); share < 0.12 || share > 0.17 {
		t.Errorf("capacity 1:2:4: the weight-1 host got %.3f of the calls, want about 1/7", share)
	}
	off, on := res["e: a host joining cold/no slow start (Lars)"], res["e: a host joining cold/slow_start 30s"]
	if on.WindowFailed*2 > off.WindowFailed || on.WindowP99 >= off.WindowP99 {
		t.Errorf("cold join: slow start failed %d calls, p99 %v in the first 30 s; want well under %d, %v without it", on.WindowFailed, on.WindowP99, off.WindowFailed, off.WindowP99)
	}
	none, zoneA := res["f: two zones, 10 ms apart/no zone (Lars)"], res["f: two zones, 10 ms apart/agent zone a"]
	if zoneA.InZone != zoneA.Calls || zoneA.P99 >= none.P99 {
		t.Errorf("zones: %d of %d calls in zone, p99 %v; want all, and under %v without a zone", zoneA.InZone, zoneA.Calls, zoneA.P99, none.P99)
	}
}
