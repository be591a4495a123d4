package lb

import (
	"fmt"
	"testing"
	"time"
)

// policyBench names a table setup of BenchmarkPolicyPick.
type policyBench struct {
	name string
	pol  Policies
	over int // hosts of every key overloaded (of 10)
}

var policyBenches = []policyBench{
	{"rr", Policies{}, 0},
	{"p2c", Policies{Pick: PolicyP2C}, 0},
	{"ewma", Policies{Pick: PolicyEWMA}, 0},
	{"rr-1-over", Policies{}, 1},
	{"panic", Policies{PanicThreshold: 50}, 6},
}

// policyTable builds n keys of 10 hosts under b's policy, with b.over hosts of every
// key overloaded and, under ewma, a latency reported for every host, the clock then
// moved on so that each pick decays the latencies.
func policyTable(pb policyBench, n int) *Table {
	clk := newFakeClock()
	tbl := NewTable(Config{Clock: clk.Now, Policies: pb.pol})
	buildKeys(tbl, n, 10)
	for i := range int32(n) {
		for j := range int32(10) {
			h := wireHost(10<<24|(i*10+j), 8000+j)
			if int(j) < pb.over {
				for range 15 {
					tbl.Report(i, i+1, h, 1)
				}
			} else if pb.pol.Pick == PolicyEWMA {
				tbl.ReportLatency(i, i+1, h, 0, time.Duration(1+j)*time.Millisecond)
			}
		}
	}
	clk.Advance(100 * time.Millisecond)
	tbl.Tick()
	return tbl
}

// BenchmarkPolicyPick measures GetHost under each policy at 1,000 and 100,000 keys
// (keys in random order), with ns/get and x-miss as BenchmarkGetHostPerMiss reports
// them: compare policies by their ratios within one run.
func BenchmarkPolicyPick(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		for _, pb := range policyBenches {
			b.Run(fmt.Sprintf("keys=%d/%s", n, pb.name), func(b *testing.B) {
				b.StopTimer()
				tbl := policyTable(pb, n)
				b.StartTimer()
				perMiss(b, tbl, n, 100_000)
			})
		}
	}
}

// BenchmarkPolicyReport measures ReportLatency (a success, no state change) under
// each pick policy on 1,000 keys.
func BenchmarkPolicyReport(b *testing.B) {
	for _, pb := range policyBenches[:3] {
		b.Run(pb.name, func(b *testing.B) {
			b.StopTimer()
			const n = 1000
			tbl := policyTable(pb, n)
			order := benchOrder(n)
			b.StartTimer()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := order[i]
				tbl.ReportLatency(k, k+1, wireHost(10<<24|(k*10+3), 8003), 0, 2*time.Millisecond)
				if i++; i == n {
					i = 0
				}
			}
		})
	}
}
