package ctlplane

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
)

// The search over agents converges on the service's connection limit: up to it every
// step meets the objective at its first attempt, past it connections are refused and
// every attempt misses. On the bubble's clock, against a fake service that serves 10
// connections and closes any beyond them at once (the real service's limit is
// TestDNSRefusedConnectionsCounted's), no step misses for want of speed.
func TestDNSSweepConvergesOnConnectionLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc, w := newFakeDNS(time.Millisecond, 20*time.Millisecond)
		svc.maxConns = 10
		var values []float64 // each value's first attempt
		sw, err := SweepDNS(context.Background(), DNSSweepConfig{
			Run: DNSConfig{Fleet: Fleet{Target: "fake:1", Keys: 2, Cmdids: loadgen.Range{Lo: 1, Hi: 10}, dial: svc.dial},
				Writer: w, ChangesPerSec: 20, DialConcurrency: 1},
			Search:       Search{Start: 2},
			Objective:    stats.Objective{Limits: []stats.Limit{{Of: "push", Percentile: "p99", Max: time.Second}}},
			StepDuration: 250 * time.Millisecond,
			OnStep: func(st ctlreport.DNSSweepStep) {
				if st.Attempt == 0 {
					values = append(values, st.Value)
				}
				// The fake forgets a step's connections once it has read their end: let
				// it, so that the next step finds its 10 places free.
				synctest.Wait()
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		w.pending.Wait()
		if !sw.Found || sw.Capacity != 10 {
			t.Fatalf("capacity %v (found %v), want 10; steps %v", sw.Capacity, sw.Found, values)
		}
		if want := []float64{2, 4, 8, 16, 12, 10, 11}; !slices.Equal(values, want) {
			t.Fatalf("steps %v, want %v", values, want)
		}
		for _, st := range sw.Steps {
			rep := st.Report
			checkPushSums(t, rep)
			refused := max(int(st.Value)-10, 0)
			if st.Met != (refused == 0) || (st.Met && st.Attempt != 0) ||
				rep.Connections.Refused != uint64(refused) || rep.Changes.Committed != 5 || rep.Pushes.Missing != 0 {
				t.Errorf("%v agents, attempt %d: met %v (%s), %d refused, %d changes, %d pushes missing; want met with no refusal up to 10 agents, 5 changes, none missing",
					st.Value, st.Attempt, st.Met, st.Reason, rep.Connections.Refused, rep.Changes.Committed, rep.Pushes.Missing)
			}
		}
		if len(sw.Steps) != 10 {
			t.Errorf("%d steps; want 2, 4, 8, 10 once and 16, 12, 11 twice", len(sw.Steps))
		}
	})
}
