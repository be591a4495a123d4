package routesvc

import (
	"context"
	"fmt"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// tableSizes are the route tables the load benchmarks read: keys of 10 hosts each.
var tableSizes = []int{1_000, 100_000} // 10,000 and 1,000,000 RouteData rows

// fillStore writes keys keys of 10 hosts each into db in one import.
func fillStore(b *testing.B, db *store.DB, keys int) {
	b.Helper()
	routes := make(map[route.Key][]route.Host, keys)
	for k := range keys {
		routes[route.Key{Modid: int32(k / 100), Cmdid: int32(k % 100)}] = manyHosts(10, int32(k%1000+1))
	}
	start := time.Now()
	if _, err := db.ReplaceKeys(context.Background(), routes); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %d rows in %v", keys*10, time.Since(start).Round(time.Millisecond))
}

// engines runs fn on a fresh SQLite store and, when one is configured, a fresh MariaDB
// database.
func engines(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("engine=sqlite", func(b *testing.B) { fn(b, openStore(b, storetest.SQLiteDSN(b))) })
	b.Run("engine=mariadb", func(b *testing.B) {
		dsn, ok := storetest.MySQLDSN(b)
		if !ok {
			b.Skip(storetest.EnvMySQLDSN + " not set: no MariaDB")
		}
		fn(b, openStore(b, dsn))
	})
}

// BenchmarkFullLoad: reading every route into an empty table, as at start: seconds per
// load and the peak heap above the live heap before it (peak-MB).
func BenchmarkFullLoad(b *testing.B) {
	engines(b, func(b *testing.B, db *store.DB) {
		for _, keys := range tableSizes {
			b.Run(fmt.Sprintf("rows=%d", keys*10), func(b *testing.B) {
				fillStore(b, db, keys)
				var peak float64
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					svc, err := New(Config{Store: db, Logger: quiet})
					if err != nil {
						b.Fatal(err)
					}
					base := heapInUse()
					stop := samplePeakHeap()
					b.StartTimer()
					if _, err := svc.sync.fullLoad(context.Background()); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					peak = max(peak, stop()-base)
					if got := svc.Stats().Routes; got != int64(keys*10) {
						b.Fatalf("loaded %d routes, want %d", got, keys*10)
					}
					b.StartTimer()
				}
				b.ReportMetric(peak/(1<<20), "peak-MB")
			})
		}
	})
}

// BenchmarkChangeOneKey: the service applying one changed key (poll, change row, the
// key's hosts) on tables of 10,000 and 1,000,000 rows: its cost must not follow the
// table's size. The write itself is not timed.
func BenchmarkChangeOneKey(b *testing.B) {
	engines(b, func(b *testing.B, db *store.DB) {
		for _, keys := range tableSizes {
			b.Run(fmt.Sprintf("rows=%d", keys*10), func(b *testing.B) {
				fillStore(b, db, keys)
				svc, err := New(Config{Store: db, Logger: quiet})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if _, err := svc.sync.fullLoad(ctx); err != nil {
					b.Fatal(err)
				}
				key := route.Key{Modid: int32(keys / 200), Cmdid: 7}
				b.ResetTimer()
				for i := range b.N {
					b.StopTimer()
					if _, err := db.SetHosts(ctx, key, manyHosts(10, int32(2000+i%1000))); err != nil {
						b.Fatal(err)
					}
					changed := svc.Stats().KeysChanged
					b.StartTimer()
					if err := svc.sync.poll(ctx); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					if svc.Stats().KeysChanged != changed+1 {
						b.Fatal("the change was not applied")
					}
					b.StartTimer()
				}
			})
		}
	})
}

// samplePeakHeap samples the heap's live objects every millisecond until the returned
// function is called, which returns the largest sample.
func samplePeakHeap() func() float64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		wg.Wait()
		return float64(peak.Load())
	}
}
