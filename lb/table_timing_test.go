package lb

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/route"
)

// Sinks keep the benchmarked results alive.
var (
	sinkHost  Host
	sinkRet   codec.RetCode
	sinkRoute []route.Host
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
			hosts[j] = wireHost(10<<24|(i*int32(hostsPer)+int32(j)), 8000+int32(j))
		}
		tbl.GetHost(i, i+1)
		tbl.ApplyRoute(i, i+1, rhs(hosts))
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

// benchTables caches the tables of benchTable, so that each size is built once per
// process (the million-key table takes seconds and a GiB).
var benchTables sync.Map // key count -> *Table

func benchTable(b *testing.B, n int) *Table {
	if tbl, ok := benchTables.Load(n); ok {
		return tbl.(*Table)
	}
	b.StopTimer() // b.Loop restarts it
	tbl := NewTable(Config{Clock: newFakeClock().Now})
	buildKeys(tbl, n, 10)
	benchTables.Store(n, tbl)
	b.StartTimer()
	return tbl
}

// benchOrders caches benchOrder.
var benchOrders sync.Map // key count -> []int32

// benchOrder returns the keys 0..n-1 in a fixed random order. The benchmarks visit
// keys in that order rather than k, k+1, ...: keys are created in that sequence, so
// their states lie in memory in that order and a sequential walk is a stream the
// hardware prefetcher follows, which no real mix of requests is. The order is
// computed once, so that the loop only reads it sequentially (4 bytes a call).
func benchOrder(n int) []int32 {
	if o, ok := benchOrders.Load(n); ok {
		return o.([]int32)
	}
	o := make([]int32, n)
	for i := range o {
		o[i] = int32(i)
	}
	r := rand.New(rand.NewPCG(uint64(n), 42))
	r.Shuffle(n, func(i, j int) { o[i], o[j] = o[j], o[i] })
	benchOrders.Store(n, o)
	return o
}

// benchSizes are the key counts of the table benchmarks; 1,000,000 only for the
// single-threaded runs, and not with -short.
var benchSizes = []int{1000, 100_000, 1_000_000}

// parallelMaxKeys bounds the key counts of the parallel table benchmarks.
const parallelMaxKeys = 100_000

// sinkMu guards the sinks when parallel benchmark goroutines store their last result.
var sinkMu sync.Mutex

// benchOp is one benchmarked call on key (k, k+1); each goroutine gets its own from a
// factory, so that it owns its buffers and sinks its result once at the end.
type benchOp interface {
	run(tbl *Table, k int32)
	sink()
}

// benchKeys runs the ops made by newOp over the keys of tables of every size, with
// the keys in a fixed random order (see benchOrder):
//
//   - keys=N: single-threaded;
//   - keys=N/seq: single-threaded in creation order, the easy case for the caches;
//   - keys=N/parallel: each goroutine on its own keys (every g-th key of the order):
//     independent keys, what must scale with cores;
//   - keys=N/parallel-shared: every goroutine on every key, from its own start. This
//     one cannot scale: exact round-robin per key means every call moves the key's
//     counter, so two cores on the same keys pass the counters' cache lines back and
//     forth. It shows the cost of that sharing, not a defect to fix.
func benchKeys(b *testing.B, newOp func() benchOp) {
	for _, n := range benchSizes {
		if n > 100_000 && testing.Short() {
			continue
		}
		order := benchOrder(n)
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			tbl := benchTable(b, n)
			b.ReportAllocs()
			op := newOp()
			i := 0
			for b.Loop() {
				op.run(tbl, order[i])
				if i++; i == n {
					i = 0
				}
			}
			op.sink()
		})
		if n > parallelMaxKeys {
			continue
		}
		b.Run(fmt.Sprintf("keys=%d/seq", n), func(b *testing.B) {
			tbl := benchTable(b, n)
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
			tbl := benchTable(b, n)
			b.ReportAllocs()
			g := runtime.GOMAXPROCS(0) // RunParallel's goroutines at parallelism 1
			var id atomic.Int32
			b.RunParallel(func(pb *testing.PB) {
				op := newOp()
				first := int(id.Add(1)-1) % g
				i := first
				for pb.Next() {
					op.run(tbl, order[i])
					if i += g; i >= n {
						i = first
					}
				}
				op.sink()
			})
		})
		b.Run(fmt.Sprintf("keys=%d/parallel-shared", n), func(b *testing.B) {
			tbl := benchTable(b, n)
			b.ReportAllocs()
			var start atomic.Int32
			b.RunParallel(func(pb *testing.PB) {
				op := newOp()
				i := int(start.Add(int32(n/7+1))) % n
				for pb.Next() {
					op.run(tbl, order[i])
					if i++; i == n {
						i = 0
					}
				}
				op.sink()
			})
		})
	}
}

// The ops that keep results are padded to 128 bytes (their size class, so aligned):
// two goroutines' ops must not share a cache line, or every call of a parallel
// benchmark would bounce that line between cores and measure the benchmark itself.

type getHostOp struct {
	h   Host
	ret codec.RetCode
	_   [128 - 12]byte
}

func (o *getHostOp) run(tbl *Table, k int32) { o.h, o.ret = tbl.GetHost(k, k+1) }
func (o *getHostOp) sink()                   { sinkMu.Lock(); sinkHost, sinkRet = o.h, o.ret; sinkMu.Unlock() }

type reportOp struct{}

func (reportOp) run(tbl *Table, k int32) {
	tbl.Report(k, k+1, wireHost(10<<24|(k*10+k%10), 8000+k%10), 0)
}
func (reportOp) sink() {}

type getRouteOp struct {
	dst []route.Host
	_   [128 - 24]byte
}

func (o *getRouteOp) run(tbl *Table, k int32) { o.dst = tbl.GetRoute(k, k+1, o.dst[:0]) }
func (o *getRouteOp) sink()                   { sinkMu.Lock(); sinkRoute = o.dst; sinkMu.Unlock() }

func BenchmarkGetHost(b *testing.B) {
	benchKeys(b, func() benchOp { return new(getHostOp) })
}

func BenchmarkReport(b *testing.B) {
	benchKeys(b, func() benchOp { return reportOp{} })
}

func BenchmarkGetRoute(b *testing.B) {
	benchKeys(b, func() benchOp { return &getRouteOp{dst: make([]route.Host, 0, 16)} })
}

// BenchmarkGetHostBaseline is the obvious design to compare GetHost with: one map
// behind a RWMutex, and a round-robin counter per key; same key orders as GetHost.
func BenchmarkGetHostBaseline(b *testing.B) {
	type entry struct {
		hosts []Host
		rr    atomic.Uint64
	}
	for _, n := range benchSizes[:2] {
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
		order := benchOrder(n)

		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				sinkHost = get(order[i])
				if i++; i == n {
					i = 0
				}
			}
		})
		b.Run(fmt.Sprintf("keys=%d/seq", n), func(b *testing.B) {
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
				i := int(start.Add(int32(n/7+1))) % n
				var h Host
				for pb.Next() {
					h = get(order[i])
					if i++; i == n {
						i = 0
					}
				}
				sinkMu.Lock()
				sinkHost = h
				sinkMu.Unlock()
			})
		})
	}
}

// oneKeyHosts are the host counts of BenchmarkOneKey.
var oneKeyHosts = []int{1, 10, 100, 1000}

// BenchmarkOneKey runs GetHost, GetRoute and Report on a single key of 1 to 1000
// hosts, all idle: the cost of the host count alone, with everything in cache.
// Report names every host in turn, all successes (no state change).
func BenchmarkOneKey(b *testing.B) {
	for _, hosts := range oneKeyHosts {
		tbl := NewTable(Config{Clock: newFakeClock().Now})
		buildKeys(tbl, 1, hosts)
		rt := tbl.GetRoute(0, 1, nil)
		b.Run(fmt.Sprintf("GetHost/hosts=%d", hosts), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkHost, sinkRet = tbl.GetHost(0, 1)
			}
		})
		b.Run(fmt.Sprintf("GetRoute/hosts=%d", hosts), func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]route.Host, 0, hosts)
			for b.Loop() {
				dst = tbl.GetRoute(0, 1, dst[:0])
			}
			sinkRoute = dst
		})
		b.Run(fmt.Sprintf("Report/hosts=%d", hosts), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tbl.Report(0, 1, rt[i].Addr, 0)
				if i++; i == len(rt) {
					i = 0
				}
			}
		})
	}
}

// BenchmarkMemoryPerKey reports the heap per key of tables of 10,000 keys of 1, 10
// and 100 hosts each (keyState, host snapshot, host states and index).
func BenchmarkMemoryPerKey(b *testing.B) {
	for _, hosts := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) {
			var perKey float64
			for b.Loop() {
				perKey, _ = measureTable(10_000, hosts)
			}
			b.ReportMetric(perKey, "bytes/key")
			b.ReportMetric(perKey/float64(hosts), "bytes/host")
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
