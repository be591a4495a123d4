package lb

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
)

// TestPolicyStress runs pickers that report every call they get, route updates,
// state changes and sweeps together under each policy, and checks that picks stay
// in the key's hosts, no call stays in flight once every call is reported, and the
// no equal host is starved.
func TestPolicyStress(t *testing.T) {
	for name, pol := range map[string]Policies{
		"p2c":           {Pick: PolicyP2C},
		"ewma":          {Pick: PolicyEWMA},
		"panic":         {PanicThreshold: 50},
		"p2c panic":     {Pick: PolicyP2C, PanicThreshold: 50, OverloadBackoff: 2},
		"ewma backoff":  {Pick: PolicyEWMA, OverloadBackoff: 2},
		"rr everything": {PanicThreshold: 50, OverloadBackoff: 2},
	} {
		t.Run(name, func(t *testing.T) { stressPolicy(t, pol) })
	}
}

func stressPolicy(t *testing.T, pol Policies) {
	const (
		workers      = 8
		opsPerWorker = 10_000
		nStable      = 4
	)
	clk := newFakeClock()
	tbl := NewTable(Config{Clock: clk.Now, Settings: noThresholds(), Policies: pol, PullQueue: 1 << 16})
	stable := []Host{hostN(1), hostN(2), hostN(3), hostN(4)}
	churn := []Host{hostN(5), hostN(6)}
	inUniverse := func(h Host) bool { return slices.Contains(stable, h) || slices.Contains(churn, h) }
	answer(t, tbl, stable...)

	var stop atomic.Bool
	var updaters sync.WaitGroup
	updaters.Go(func() { // route updates: stable hosts plus some of churn
		r := rand.New(rand.NewPCG(3, 4))
		for i := 0; !stop.Load(); i++ {
			hosts := slices.Clone(stable)
			for _, h := range churn {
				if r.IntN(2) == 0 {
					hosts = append(hosts, h)
				}
			}
			tbl.ApplyRoute(tmod, tcmd, rhs(hosts))
			if i%16 == 0 {
				tbl.Sweep()
				tbl.Snapshot()
			}
		}
	})

	counts := make([][nStable]uint64, workers)
	var bad atomic.Value
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range opsPerWorker {
				h, ret := tbl.GetHost(tmod, tcmd)
				if ret != codec.RetSucc || !inUniverse(h) {
					bad.Store("GetHost returned " + h.String() + " " + ret.String())
					continue
				}
				if i := slices.Index(stable, h); i >= 0 {
					counts[w][i]++
				}
				tbl.ReportLatency(tmod, tcmd, h, 0, time.Millisecond)
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	updaters.Wait()
	if msg := bad.Load(); msg != nil {
		t.Fatal(msg)
	}
	var total uint64
	for w := range counts {
		for _, n := range counts[w] {
			total += n
		}
	}
	if total == 0 {
		t.Fatal("no pick of a stable host")
	}
	for _, h := range stable {
		if hi := hostInfo(t, tbl, h); hi.InFlight != 0 {
			t.Fatalf("host %v still has %d calls in flight after every call was reported", h, hi.InFlight)
		}
	}
	// The spread over the stable hosts is not judged here: a worker preempted
	// mid-call (8 workers, few cores, a busy machine) leaves its host with a call in
	// flight for as long as the scheduler keeps it off a CPU, and least outstanding
	// rightly avoids that host meanwhile, so the spread depends on the scheduler.
	// TestPolicyPicksSpread judges it where it does not.
	checkGauges(t, tbl)
}
