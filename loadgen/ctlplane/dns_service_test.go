package ctlplane

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/routesvc"
)

var quiet = slog.New(slog.DiscardHandler)

// The real route service on SQLite, the changes written to the store as larsctl
// writes them: every push arrives once per subscribed agent, the service's own count
// of pushes is the same, and the latencies run from the commit (the service polls
// every 50ms, so the first agent has each change within a poll or so).
func TestDNSAgainstRouteServiceOnSQLite(t *testing.T) {
	larstest.CheckGoroutines(t, 5*time.Second)
	db := openStore(t)
	svc, admin := startRouteService(t, db, routesvc.Config{Poll: 50 * time.Millisecond, Logger: quiet})
	rep, err := RunDNS(context.Background(), DNSConfig{Fleet: Fleet{Target: svc.Addr().String(), Agents: 40, Keys: 5, Modids: loadgen.Range{Lo: 7, Hi: 8}, Cmdids: loadgen.Range{Lo: 1, Hi: 25}, Spread: loadgen.Zipf}, HostsPerKey: 2, Writer: db, ChangesPerSec: 25, Duration: time.Second, AdminURL: admin})
	if err != nil {
		t.Fatal(err)
	}
	checkPushSums(t, rep)
	p := rep.Pushes
	if p.Missing != 0 || p.LostClosed != 0 || p.Received == 0 || p.CompleteChanges != rep.Changes.Committed {
		t.Errorf("pushes %+v; want every one received", p)
	}
	if rep.Changes.Committed != 25 {
		t.Errorf("%d changes committed, want 25", rep.Changes.Committed)
	}
	if got := rep.Service["lars_dns_pushes_total"]; got != float64(p.Received) {
		t.Errorf("the service counted %.0f pushes, the agents received %d", got, p.Received)
	}
	if got := rep.Service["lars_dns_subscriptions"]; got != float64(rep.Subscriptions) || rep.Subscriptions != 200 {
		t.Errorf("the service holds %.0f subscriptions, the run %d; want 200", got, rep.Subscriptions)
	}
	if p.FirstMS.Min <= 0 || p.FirstMS.P50 > 1000 || p.LastMS.Max < p.FirstMS.Max {
		t.Errorf("first push %+v, last %+v: want them within about one 50ms poll of the commit", p.FirstMS, p.LastMS)
	}
	if v := (Objective{Limits: []Limit{{Of: "push", Percentile: "p99", Max: 5 * time.Second}}}).Check(rep); !v.Met {
		t.Errorf("objective missed: %s", v.Reason)
	}
}

// A service over its connection limit closes the connections beyond it at once: they
// are counted as refused, and the others are served as usual.
func TestDNSRefusedConnectionsCounted(t *testing.T) {
	larstest.CheckGoroutines(t, 5*time.Second)
	db := openStore(t)
	svc, _ := startRouteService(t, db, routesvc.Config{Poll: 30 * time.Millisecond, MaxConns: 6, Logger: quiet})
	rep, err := RunDNS(context.Background(), DNSConfig{Fleet: Fleet{Target: svc.Addr().String(), Agents: 9, Keys: 2, Cmdids: loadgen.Range{Lo: 1, Hi: 4}}, Writer: db, ChangesPerSec: 20, Duration: 500 * time.Millisecond, DialConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkPushSums(t, rep)
	if c := rep.Connections; c.Connected != 9 || c.Refused != 3 || c.ClosedByService != 0 || c.NotReady != 0 {
		t.Errorf("connections %+v; want 9 connected, 3 refused", c)
	}
	if rep.Subscriptions != 12 || rep.Pushes.Missing != 0 {
		t.Errorf("%d subscriptions (want 6 agents x 2), %d pushes missing", rep.Subscriptions, rep.Pushes.Missing)
	}
	if v := (Objective{}).Check(rep); v.Met {
		t.Error("a run with refused connections met the objective")
	}
}

// The search over agents converges on the service's connection limit: up to it every
// step meets the objective, past it connections are refused.
func TestDNSSweepConvergesOnConnectionLimit(t *testing.T) {
	larstest.CheckGoroutines(t, 5*time.Second)
	db := openStore(t)
	svc, _ := startRouteService(t, db, routesvc.Config{Poll: 20 * time.Millisecond, MaxConns: 10, Logger: quiet})
	var values []float64 // each value's first attempt
	sw, err := SweepDNS(context.Background(), DNSSweepConfig{
		Run:          DNSConfig{Fleet: Fleet{Target: svc.Addr().String(), Keys: 2, Cmdids: loadgen.Range{Lo: 1, Hi: 10}}, Writer: db, ChangesPerSec: 20, DialConcurrency: 1},
		Search:       Search{Start: 2}, // a step that missed is run again: a write may stall on a busy machine
		Objective:    Objective{Limits: []Limit{{Of: "push", Percentile: "p99", Max: 5 * time.Second}}},
		StepDuration: 250 * time.Millisecond,
		OnStep: func(st DNSSweepStep) {
			if st.Attempt == 0 {
				values = append(values, st.Value)
			}
			t.Logf("%v agents, attempt %d: met %v %s; setup %.2fs changes %.2fs drain %.2fs write max %.1fms", st.Value, st.Attempt, st.Met, st.Reason, st.Report.SetupS, st.Report.DurationS, st.Report.DrainS, st.Report.Changes.WriteMS.Max)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sw.Found || sw.Capacity != 10 {
		t.Fatalf("capacity %v (found %v), want 10; steps %v", sw.Capacity, sw.Found, values)
	}
	want := []float64{2, 4, 8, 16, 12, 10, 11}
	if len(values) != len(want) {
		t.Fatalf("steps %v, want %v", values, want)
	}
	for i := range want {
		if values[i] != want[i] {
			t.Fatalf("steps %v, want %v", values, want)
		}
	}
	for _, st := range sw.Steps {
		if st.Value > 10 && st.Met {
			t.Errorf("%v agents met the objective, over the limit of 10 connections", st.Value)
		}
	}
}
