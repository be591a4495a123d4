package store

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// benchRows is the RouteData size of the read benchmarks: LARS_BENCH_ROUTE_ROWS
// (default 100,000; the lead's 1,000,000-row measurement sets it).
func benchRows(b *testing.B) int {
	if s := os.Getenv("LARS_BENCH_ROUTE_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 10 {
			b.Fatalf("LARS_BENCH_ROUTE_ROWS=%q: want a number >= 10", s)
		}
		return n
	}
	return 100_000
}

// loadedDB opens dsn and fills RouteData with rows rows, 10 hosts per key.
func loadedDB(b *testing.B, dsn string, rows int) *DB {
	db := openT(b, dsn)
	start := time.Now()
	if _, err := db.ReplaceKeys(testContext(b), bigRoutes(rows/10, 10, 0)); err != nil {
		b.Fatal(err)
	}
	b.Logf("ReplaceKeys of %d keys x 10 hosts into an empty database: %v", rows/10, time.Since(start))
	return db
}

var sinkRows int

func BenchmarkScanRoutes(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, dsn string) {
		rows := benchRows(b)
		db := loadedDB(b, dsn, rows)
		ctx := testContext(b)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			n := 0
			if err := db.ScanRoutes(ctx, func(route.Key, route.Host) { n++ }); err != nil {
				b.Fatal(err)
			}
			sinkRows = n
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
	})
}

func BenchmarkAllRoutes(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, dsn string) {
		rows := benchRows(b)
		db := loadedDB(b, dsn, rows)
		ctx := testContext(b)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			routes, err := db.AllRoutes(ctx)
			if err != nil {
				b.Fatal(err)
			}
			sinkRows = len(routes)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
	})
}

// BenchmarkReplaceKeys replaces every host of 10,000 keys x 10 hosts per operation
// (100,000 rows deleted and 100,000 inserted, 10,000 change rows).
func BenchmarkReplaceKeys(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, dsn string) {
		db := openT(b, dsn)
		ctx := testContext(b)
		sets := []map[route.Key][]route.Host{bigRoutes(10_000, 10, 0), bigRoutes(10_000, 10, 1<<20)}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			changed, err := db.ReplaceKeys(ctx, sets[i%2])
			if err != nil || len(changed) != 10_000 {
				b.Fatalf("changed %d keys, %v", len(changed), err)
			}
			i++
		}
	})
}

func BenchmarkAddHost(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, dsn string) {
		db := openT(b, dsn)
		ctx := testContext(b)
		b.ReportAllocs()
		i := int32(0)
		for b.Loop() {
			if _, err := db.AddHost(ctx, route.Key{Modid: 1, Cmdid: i % 100}, route.FromWire(i, 80)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkStamp(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, dsn string) {
		db := openT(b, dsn)
		ctx := testContext(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := db.Stamp(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
