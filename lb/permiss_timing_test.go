package lb

import (
	"math/rand/v2"
	"testing"
	"time"
)

// missLine is one 128-byte element of the memory-latency chain of
// BenchmarkGetHostPerMiss, as large as a slot.
type missLine struct {
	next uint32
	_    [124]byte
}

// missChain returns n lines linked in one random cycle: following next from any line
// visits every line, each load depending on the one before.
func missChain(n int) []missLine {
	chain := make([]missLine, n)
	perm := rand.New(rand.NewPCG(uint64(n), 7)).Perm(n)
	for i, p := range perm {
		chain[p].next = uint32(perm[(i+1)%n])
	}
	return chain
}

// perMissChunk is the number of calls, and of chain steps, a BenchmarkGetHostPerMiss
// round times together: long enough for the clock, short enough that the two halves
// of a round see the same machine.
const perMissChunk = 20_000

// BenchmarkGetHostPerMiss measures GetHost on the 100,000-key table (keys in random
// order) in the unit that bounds it once the table outgrows the CPU caches: one
// cache miss. Each round times a chunk of GetHost calls, then a chunk of steps along
// a chain of dependent loads through as many 128-byte lines as the table has slots
// (one miss each, nothing to overlap). It reports ns/get, ns/miss and x-miss, their
// ratio: GetHost's cost in misses. On a shared machine the latency of memory moves
// with the neighbours' load (from about 55 to 165 ns a miss on the development machine), and
// ns/get with it; x-miss moves much less, and a change to the lookup or the pick
// shows in it.
func BenchmarkGetHostPerMiss(b *testing.B) {
	const n = 100_000
	perMiss(b, benchTable(b, n), n, 0)
}

// perMiss runs GetHost over the n keys of tbl in random order, in chunks alternating
// with chunks of steps along a chain of dependent loads through as many lines as the
// table has index slots (at least minLines), and reports ns/get, ns/miss and x-miss.
func perMiss(b *testing.B, tbl *Table, n, minLines int) {
	order := benchOrder(n)
	lines := 0
	for i := range tbl.shards {
		lines += len(tbl.shards[i].idx.Load().slots)
	}
	chain := missChain(max(lines, minLines))
	b.ReportAllocs()
	var get, miss time.Duration
	var h Host
	p, i, rounds := uint32(0), 0, 0
	for b.Loop() {
		t0 := time.Now()
		for range perMissChunk {
			k := order[i]
			h, _ = tbl.GetHost(k, k+1)
			if i++; i == n {
				i = 0
			}
		}
		t1 := time.Now()
		for range perMissChunk {
			p = chain[p].next
		}
		t2 := time.Now()
		get += t1.Sub(t0)
		miss += t2.Sub(t1)
		rounds++
	}
	sinkHost = h
	sinkMissLine = p
	calls := float64(rounds * perMissChunk)
	b.ReportMetric(float64(get.Nanoseconds())/calls, "ns/get")
	b.ReportMetric(float64(miss.Nanoseconds())/calls, "ns/miss")
	b.ReportMetric(float64(get)/float64(miss), "x-miss")
}

// sinkMissLine keeps the chain walk of BenchmarkGetHostPerMiss alive.
var sinkMissLine uint32

// TestMissChainIsOneCycle checks the baseline of BenchmarkGetHostPerMiss: a walk
// visits every line before it comes back, so no step can hit a line loaded shortly
// before.
func TestMissChainIsOneCycle(t *testing.T) {
	const n = 1000
	chain := missChain(n)
	seen := make([]bool, n)
	p := uint32(0)
	for step := range n {
		if seen[p] {
			t.Fatalf("line %d visited again at step %d", p, step)
		}
		seen[p] = true
		p = chain[p].next
	}
	if p != 0 {
		t.Fatalf("walk ends at %d, not back at 0", p)
	}
}
