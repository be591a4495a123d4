package ctlplane

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
	"github.com/larsgo/lars/route"
)

func TestLatencySummaries(t *testing.T) {
	var h stats.Histogram
	for v := int64(1); v <= 1000; v++ {
		h.Add(v * int64(time.Millisecond))
	}
	l := summarize(&h)
	if l.Count != 1000 || math.Abs(l.P50-500) > 2 || math.Abs(l.P99-990) > 4 || math.Abs(l.Max-1000) > 4 || math.Abs(l.Min-1) > 0.004 {
		t.Errorf("summary of 1..1000ms: %+v", l)
	}
	e := exactSummary([]int64{3e6, 1e6, 2e6, 4e6})
	if e.Count != 4 || e.Min != 1 || e.Max != 4 || e.P50 != 2 || e.P99 != 4 || e.Mean != 2.5 {
		t.Errorf("exact summary of 1..4ms: %+v", e)
	}
}

func TestParseMetrics(t *testing.T) {
	m, err := ParseMetrics(strings.NewReader(`# HELP x
lars_dns_pushes_total 12
lars_reporter_dropped_rows_total{reason="queue_full"} 3
lars_reporter_dropped_rows_total{reason="a}b\"c"} 4 1700000000
lars_dns_push_fanout_seconds_bucket{vmrange="1e-3...2e-3"} 9

process_cpu_seconds_total 1.5e+00
`))
	if err != nil {
		t.Fatal(err)
	}
	if m["lars_dns_pushes_total"] != 12 || m.Sum("lars_reporter_dropped_rows_total") != 7 || m["process_cpu_seconds_total"] != 1.5 || len(m) != 4 {
		t.Fatalf("parsed %v", m)
	}
	for _, bad := range []string{"novalue", "x{a=\"1\" 2", "x abc", "x 1 2 3"} {
		if _, err := ParseMetrics(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	fig := serviceFigures(Metrics{"lars_dns_pushes_total": 10, "lars_dns_connections": 3},
		Metrics{"lars_dns_pushes_total": 25, "lars_dns_connections": 5, "go_goroutines": 9}, "lars_dns_")
	if fig["lars_dns_pushes_total"] != 15 || fig["lars_dns_connections"] != 5 || len(fig) != 2 {
		t.Errorf("figures %v", fig)
	}
}

func FuzzParseMetrics(f *testing.F) {
	f.Add("a 1\nb{x=\"y\"} 2 3\n# c\n")
	f.Add("a{x=\"}\\\"\"} 1")
	f.Add("{} 1")
	f.Add("a_bucket{le=\"1\"} NaN")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMetrics(strings.NewReader(s))
		if err == nil && m == nil {
			t.Fatal("nil metrics without an error")
		}
	})
}

func TestParseObjective(t *testing.T) {
	o, err := ctlreport.ParseObjective("push-p99=2s, last-p99.9=3s,p50=500ms,pull-p90=10ms")
	if err != nil {
		t.Fatal(err)
	}
	want := []stats.Limit{{Of: "push", Percentile: "p99", Max: 2 * time.Second}, {Of: "last", Percentile: "p999", Max: 3 * time.Second}, {Of: "push", Percentile: "p50", Max: 500 * time.Millisecond}, {Of: "pull", Percentile: "p90", Max: 10 * time.Millisecond}}
	if len(o.Limits) != len(want) {
		t.Fatalf("limits %v", o.Limits)
	}
	for i := range want {
		if o.Limits[i] != want[i] {
			t.Errorf("limit %d: %+v, want %+v", i, o.Limits[i], want[i])
		}
	}
	for _, bad := range []string{"", "push-p99", "push-p98=1s", "writes-p99=1s", "push-p99=-1s", "push-p99=soon"} {
		if _, err := ctlreport.ParseObjective(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	rep := &ctlreport.DNSReport{Pushes: ctlreport.DNSPushes{Expected: 10, Received: 9, Missing: 1, LatencyMS: ctlreport.Latency{P99: 2500}}}
	v := ctlreport.CheckDNS(stats.Objective{Limits: want[:1], MaxLoss: 0.2}, rep)
	if v.Met || !strings.Contains(v.Reason, "push-p99 2500.0ms > 2000.0ms") || strings.Contains(v.Reason, "missing") {
		t.Errorf("verdict %+v", v)
	}
}

func FuzzParseObjective(f *testing.F) {
	f.Add("push-p99=2s")
	f.Add("first-p50=1ms,last-p99.9=1h")
	f.Add("=,=")
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ctlreport.ParseObjective(s)
		if err != nil {
			return
		}
		back, err := ctlreport.ParseObjective(strings.Fields(o.String())[0])
		if err != nil || len(back.Limits) != len(o.Limits) {
			t.Fatalf("%q parsed as %q, which does not parse back: %v", s, o.String(), err)
		}
	})
}

func TestSearchConverges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		s       Search
		limit   float64
		lo, hi  float64 // the capacity found
		maxRuns int
	}{
		{"rates", Search{Start: 10}, 37.3, 30, 37.3, 9}, // a miss is run twice (Retries 1)
		{"integers", Search{Start: 1, Integer: true, Refine: 10}, 23, 23, 23, 12},
		{"integer factor too small to move", Search{Start: 1, Factor: 1.2, Integer: true}, 3, 3, 3, 10},
		{"max caps", Search{Start: 10, Max: 50}, 1000, 40, 40, 3},
		{"nothing meets", Search{Start: 10, Refine: -1}, 5, 0, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := 0
			best, found, _, err := tc.s.run(context.Background(), func(v float64, attempt int) (stepOutcome, error) {
				runs++
				if tc.s.Integer && v != math.Round(v) {
					t.Fatalf("value %v is not a whole number", v)
				}
				return stepOutcome{met: v <= tc.limit}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if found != (tc.hi > 0) || best < tc.lo || best > tc.hi || runs > tc.maxRuns {
				t.Errorf("best %v (found %v) after %d runs; want in [%v, %v] within %d runs", best, found, runs, tc.lo, tc.hi, tc.maxRuns)
			}
		})
	}
}

func TestChangeHostsRoundTrip(t *testing.T) {
	for _, n := range []int32{0, 1, 1000, maxChanges} {
		hosts := appendChangeHosts(nil, n, 3000, 4)
		var info []*larspb.HostInfo
		for _, h := range hosts {
			info = append(info, wireInfo(h))
		}
		got, ok := decodeChange(info, 3000, 4)
		if !ok || got != n {
			t.Errorf("change %d decoded as %d, %v", n, got, ok)
		}
		if _, ok := decodeChange(info, 3001, 4); ok {
			t.Errorf("change %d of another run's tag decoded", n)
		}
		if _, ok := decodeChange(info[:3], 3000, 4); ok {
			t.Errorf("change %d with a host missing decoded", n)
		}
	}
	if _, ok := decodeChange(nil, 3000, 1); ok {
		t.Error("an empty route decoded as a change")
	}
}

func TestSubscriptionsDistinctAndSorted(t *testing.T) {
	ks, err := newKeySpace(loadgen.Range{Lo: 5, Hi: 6}, loadgen.Range{Lo: 1, Hi: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, spread := range []loadgen.Spread{loadgen.Uniform, loadgen.Zipf} {
		s, err := drawSubscriptions(ks, 50, 20, spread, 2.5, 7) // 20 of 20 keys under zipf: completed by the lowest
		if err != nil {
			t.Fatal(err)
		}
		for a, slots := range s.agents {
			if len(slots) != 20 {
				t.Fatalf("agent %d holds %d keys", a, len(slots))
			}
			for i := 1; i < len(slots); i++ {
				if slots[i] <= slots[i-1] {
					t.Fatalf("agent %d slots %v not distinct and ascending", a, slots)
				}
			}
		}
		for slot, k := range s.keys {
			if k.Modid < 5 || k.Modid > 6 || k.Cmdid < 1 || k.Cmdid > 10 || s.slotOf[route.PackKey(k.Modid, k.Cmdid)] != int32(slot) {
				t.Fatalf("slot %d key %+v", slot, k)
			}
			if findSlot(s.agents[0], int32(slot)) < 0 {
				t.Fatalf("agent 0 does not find slot %d", slot)
			}
		}
	}
	if _, err := drawSubscriptions(ks, 1, 21, loadgen.Uniform, 0, 1); err == nil {
		t.Error("21 keys an agent drawn from 20")
	}
}

// A report service has caught up when its queue is empty and it has counted every
// frame sent since the first read; an empty queue before the last frame's count is
// not enough.
func TestServiceCaughtUp(t *testing.T) {
	before := Metrics{"lars_reporter_frames_total": 10}
	for _, tc := range []struct {
		now, before Metrics
		want        bool
	}{
		{Metrics{"lars_reporter_frames_total": 15, "lars_reporter_queue_rows": 0}, before, true},
		{Metrics{"lars_reporter_frames_total": 14, "lars_reporter_queue_rows": 0}, before, false},
		{Metrics{"lars_reporter_frames_total": 15, `lars_reporter_queue_rows{worker="1"}`: 3}, before, false},
		{Metrics{"lars_reporter_frames_total": 1, "lars_reporter_queue_rows": 0}, nil, true},
		{nil, before, false},
	} {
		if got := serviceCaughtUp(tc.now, tc.before, 5); got != tc.want {
			t.Errorf("metrics %v after %v, 5 frames sent: caught up %v, want %v", tc.now, tc.before, got, tc.want)
		}
	}
}
