package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/larsgo/lars/loadgen/report"
	"github.com/larsgo/lars/loadgen/stats"
)

// TestSweepFindsCapacity searches, on simulated time, the capacity of a fake agent
// that drops what exceeds 4000 requests per second.
func TestSweepFindsCapacity(t *testing.T) {
	sim := newSimNet(t)
	port := sim.agent(&fakeAgent{delay: 50 * time.Microsecond, capacity: 4000})
	var steps int
	sw, err := Sweep(context.Background(), SweepConfig{
		Load:         sim.config(Config{Ports: []int{port}, Timeout: 50 * time.Millisecond, Warmup: 50 * time.Millisecond}),
		SLO:          stats.Objective{Limits: []stats.Limit{{Percentile: "p99", Max: 20 * time.Millisecond}}, MaxLoss: 0.01},
		Start:        1000,
		Factor:       2,
		Refine:       2,
		Retries:      -1,
		StepDuration: 300 * time.Millisecond,
		OnStep:       func(report.SweepStep) { steps++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sw.Steps {
		t.Logf("%6.0f/s achieved %6.0f/s loss %.4f p99 %.0fus met %v %s", st.TargetRate, st.Report.Rate, st.Report.Loss, st.Report.LatencyUS.P99, st.Met, st.Reason)
	}
	// 1000, 2000 and 4000/s met the objective, 8000/s missed it, then 6000 and 5000/s.
	if steps != len(sw.Steps) || len(sw.Steps) != 6 {
		t.Errorf("%d steps reported, %d recorded, want 6", steps, len(sw.Steps))
	}
	if !sw.Found || sw.Capacity != 4000 {
		t.Errorf("capacity %v (found %v), want the fake's 4000/s", sw.Capacity, sw.Found)
	}
}
