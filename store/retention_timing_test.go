package store

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// benchRetentionRows is the table size of the retention benchmarks:
// LARS_BENCH_RETENTION_ROWS (default 100,000; the 1,000,000-row figures set it).
func benchRetentionRows(b *testing.B) int {
	if s := os.Getenv("LARS_BENCH_RETENTION_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			b.Fatalf("LARS_BENCH_RETENTION_ROWS=%q: want a number >= 100", s)
		}
		return n
	}
	return 100_000
}

// BenchmarkCallStatusSweep times one sweep, 1,000 rows per statement, of a
// ServerCallStatus table of benchRetentionRows rows (10 hosts x 10 callers per key),
// half of them stale; the table is filled again before each sweep.
func BenchmarkCallStatusSweep(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, dsn string) {
		db := openT(b, dsn)
		ctx := testContext(b)
		n := benchRetentionRows(b)
		rows := make([]CallStatus, 0, 10_000)
		for b.Loop() {
			b.StopTimer()
			for i := range n {
				ts := int64(1700000000)
				if i%2 == 0 {
					ts = 1600000000
				}
				rows = append(rows, CallStatus{Key: route.Key{Modid: int32(i / 100), Cmdid: 1}, Host: route.FromWire(int32(i%10), 80),
					Caller: int32(i / 10 % 10), TS: ts})
				if len(rows) == cap(rows) || i == n-1 {
					if err := db.UpsertCallStatus(ctx, rows); err != nil {
						b.Fatal(err)
					}
					rows = rows[:0]
				}
			}
			b.StartTimer()
			start := time.Now()
			sweep := db.NewCallStatusSweep(time.Unix(1650000000, 0))
			var deleted int64
			for {
				d, done, err := sweep.Next(ctx, 1000)
				if err != nil {
					b.Fatal(err)
				}
				deleted += d
				if done {
					break
				}
			}
			if int(deleted) != n/2 {
				b.Fatalf("deleted %d of %d rows, want half", deleted, n)
			}
			b.ReportMetric(time.Since(start).Seconds(), "s/sweep")
		}
	})
}

// BenchmarkHistorySweep times one sweep, 1,000 rows per statement, of a RouteHistory
// table of benchRetentionRows rows (10 per key), half of them past the age bound,
// with a count bound of 5 per key as well; the table is filled again before each
// sweep.
func BenchmarkHistorySweep(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, dsn string) {
		db := openT(b, dsn)
		ctx := testContext(b)
		n := benchRetentionRows(b)
		old, recent := time.Unix(1600000000, 0), time.Unix(1700000000, 0)
		for b.Loop() {
			b.StopTimer()
			batch := make([]historyRow, 0, maxRowsPerInsert/2)
			for _, at := range []time.Time{old, recent} {
				for i := range n / 2 {
					batch = append(batch, historyRow{key: route.Key{Modid: int32(i / 5), Cmdid: 1}, after: []route.Host{route.FromWire(1, 80)}})
					if len(batch) == cap(batch) || i == n/2-1 {
						if err := insertHistory(ctx, db.db, batch, 1, at, "bench", "set hosts"); err != nil {
							b.Fatal(err)
						}
						batch = batch[:0]
					}
				}
			}
			b.StartTimer()
			start := time.Now()
			sweep, err := db.NewHistorySweep(ctx, HistoryRetention{Before: time.Unix(1650000000, 0), KeepPerKey: 5})
			if err != nil {
				b.Fatal(err)
			}
			var deleted int64
			for {
				d, done, err := sweep.Next(ctx, 1000)
				if err != nil {
					b.Fatal(err)
				}
				deleted += d
				if done {
					break
				}
			}
			if int(deleted) != n/2 {
				b.Fatalf("deleted %d of %d rows, want the old half", deleted, n)
			}
			b.ReportMetric(time.Since(start).Seconds(), "s/sweep")
		}
	})
}
