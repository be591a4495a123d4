package lb

import (
	"testing"

	"github.com/larsgo/lars/route"
)

// weightedTable returns a table of n keys whose hosts have the given weights (one
// host per weight), cached per shape like benchTable.
func weightedTable(b *testing.B, n int, weights []uint32) *Table {
	b.StopTimer() // b.Loop restarts it
	tbl := NewTable(Config{Clock: newFakeClock().Now})
	hosts := make([]route.Host, len(weights))
	for i := range int32(n) {
		for j, w := range weights {
			hosts[j] = route.Host{Addr: wireHost(10<<24|(i*int32(len(weights))+int32(j)), 8000+int32(j)), Weight: w}
		}
		tbl.GetHost(i, i+1)
		tbl.ApplyRoute(i, i+1, hosts)
		if i%512 == 0 {
			drainPulls(tbl)
		}
	}
	drainPulls(tbl)
	b.StartTimer()
	return tbl
}

// BenchmarkGetHostPerMissWeighted is BenchmarkGetHostPerMiss on keys of three hosts
// weighted 1:2:4: a turn order of seven, short enough to live in the key's slot.
func BenchmarkGetHostPerMissWeighted(b *testing.B) {
	const n = 100_000
	perMiss(b, weightedTable(b, n, []uint32{100, 200, 400}), n, 0)
}

// BenchmarkGetHostPerMissWeightedWheel is BenchmarkGetHostPerMiss on keys of ten hosts
// weighted 1 to 10: a turn order of 55, picked from the key's snapshot.
func BenchmarkGetHostPerMissWeightedWheel(b *testing.B) {
	const n = 100_000
	perMiss(b, weightedTable(b, n, []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), n, 0)
}
