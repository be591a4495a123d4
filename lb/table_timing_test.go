package lb

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/larsgo/lars/codec"
)

// Sinks keep the benchmarked results alive.
var (
	sinkHost  Host
	sinkRet   codec.RetCode
	sinkRoute []Host
)

// tenHosts returns hosts 1..10.
func tenHosts() []Host {
	hs := make([]Host, 10)
	for i := range hs {
		hs[i] = hostN(i + 1)
	}
	return hs
}

// buildKeys fills tbl with keys (i, i+1), i < n, of hostsPer hosts each, the way the
// route service does: a get creates the key, an answer fills it.
func buildKeys(tbl *Table, n, hostsPer int) {
	hosts := make([]Host, hostsPer)
	for i := range int32(n) {
		for j := range hosts {
			hosts[j] = Host{IP: 10<<24 | (i*int32(hostsPer) + int32(j)), Port: 8000 + int32(j)}
		}
		tbl.GetHost(i, i+1)
		tbl.ApplyRoute(i, i+1, hosts)
		if i%512 == 0 {
			drainPulls(tbl)
		}
	}
	drainPulls(tbl)
}

// measureTable builds a table and returns its heap per key and in all.
func measureTable(n, hostsPer int) (perKey float64, total uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tbl := NewTable(Config{Clock: newFakeClock().Now})
	buildKeys(tbl, n, hostsPer)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(tbl)
	total = after.HeapAlloc - before.HeapAlloc
	return float64(total) / float64(n), total
}

var benchTables sync.Map // key count -> *Table

func benchTable(n int) *Table {
	if tbl, ok := benchTables.Load(n); ok {
		return tbl.(*Table)
	}
	tbl := NewTable(Config{Clock: newFakeClock().Now})
	buildKeys(tbl, n, 10)
	benchTables.Store(n, tbl)
	return tbl
}

var benchSizes = []int{1000, 100_000}

// sinkMu guards the sinks when parallel benchmark goroutines store their last result.
var sinkMu sync.Mutex

// benchOp is one benchmarked call on key (k, k+1); each goroutine gets its own from a
// factory, so that it owns its buffers and sinks its result once at the end.
type benchOp interface {
	run(tbl *Table, k int32)
	sink()
}

// benchKeys runs the ops made by newOp over the keys of tables of every size:
// single-threaded; in parallel with each goroutine on its own keys (keys k with
// k % goroutines == its number: independent keys, what scales with cores); and in
// parallel with every goroutine walking every key from its own start ("shared": the
// per-key round-robin counters then move between cores on every call).
func benchKeys(b *testing.B, newOp func() benchOp) {
	for _, n := range benchSizes {
		tbl := benchTable(n)
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			op := newOp()
			k := int32(0)
			for b.Loop() {
				op.run(tbl, k)
				if k++; int(k) == n {
					k = 0
				}
			}
			op.sink()
		})
		b.Run(fmt.Sprintf("keys=%d/parallel", n), func(b *testing.B) {
			b.ReportAllocs()
			g := int32(runtime.GOMAXPROCS(0)) // RunParallel's goroutines at parallelism 1
			var id atomic.Int32
			b.RunParallel(func(pb *testing.PB) {
				op := newOp()
				first := (id.Add(1) - 1) % g
				k := first
				for pb.Next() {
					op.run(tbl, k)
					if k += g; int(k) >= n {
						k = first
					}
				}
				op.sink()
			})
		})
		b.Run(fmt.Sprintf("keys=%d/parallel-shared", n), func(b *testing.B) {
			b.ReportAllocs()
			var start atomic.Int32
			b.RunParallel(func(pb *testing.PB) {
				op := newOp()
				k := start.Add(int32(n/7+1)) % int32(n)
				for pb.Next() {
					op.run(tbl, k)
					if k++; int(k) == n {
						k = 0
					}
				}
				op.sink()
			})
		})
	}
}

type getHostOp struct {
	h   Host
	ret codec.RetCode
}

func (o *getHostOp) run(tbl *Table, k int32) { o.h, o.ret = tbl.GetHost(k, k+1) }
func (o *getHostOp) sink()                   { sinkMu.Lock(); sinkHost, sinkRet = o.h, o.ret; sinkMu.Unlock() }

type reportOp struct{}

func (reportOp) run(tbl *Table, k int32) {
	tbl.Report(k, k+1, Host{IP: 10<<24 | (k*10 + k%10), Port: 8000 + k%10}, 0)
}
func (reportOp) sink() {}

type getRouteOp struct{ dst []Host }

func (o *getRouteOp) run(tbl *Table, k int32) { o.dst = tbl.GetRoute(k, k+1, o.dst[:0]) }
func (o *getRouteOp) sink()                   { sinkMu.Lock(); sinkRoute = o.dst; sinkMu.Unlock() }

func BenchmarkGetHost(b *testing.B) {
	benchKeys(b, func() benchOp { return new(getHostOp) })
}

func BenchmarkReport(b *testing.B) {
	benchKeys(b, func() benchOp { return reportOp{} })
}

func BenchmarkGetRoute(b *testing.B) {
	benchKeys(b, func() benchOp { return &getRouteOp{dst: make([]Host, 0, 16)} })
}

// BenchmarkGetHostBaseline is the obvious design to compare GetHost with: one map
// behind a RWMutex, and a round-robin counter per key.
func BenchmarkGetHostBaseline(b *testing.B) {
	type entry struct {
		hosts []Host
		rr    atomic.Uint64
	}
	for _, n := range benchSizes {
		var mu sync.RWMutex
		m := make(map[uint64]*entry, n)
		for i := range int32(n) {
			m[PackKey(i, i+1)] = &entry{hosts: tenHosts()}
		}
		get := func(k int32) Host {
			mu.RLock()
			e := m[PackKey(k, k+1)]
			mu.RUnlock()
			return e.hosts[(e.rr.Add(1)-1)%uint64(len(e.hosts))]
		}

		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			k := int32(0)
			for b.Loop() {
				sinkHost = get(k)
				if k++; int(k) == n {
					k = 0
				}
			}
		})
		b.Run(fmt.Sprintf("keys=%d/parallel", n), func(b *testing.B) {
			b.ReportAllocs()
			var start atomic.Int32
			b.RunParallel(func(pb *testing.PB) {
				k := start.Add(int32(n/7+1)) % int32(n)
				var h Host
				for pb.Next() {
					h = get(k)
					if k++; int(k) == n {
						k = 0
					}
				}
				sinkMu.Lock()
				sinkHost = h
				sinkMu.Unlock()
			})
		})
	}
}

// BenchmarkTableMemory reports the heap of a 100,000-key table of 10 hosts per key.
func BenchmarkTableMemory(b *testing.B) {
	var perKey float64
	var total uint64
	for b.Loop() {
		perKey, total = measureTable(100_000, 10)
	}
	b.ReportMetric(perKey, "bytes/key")
	b.ReportMetric(float64(total)/(1<<20), "MiB/table")
}
