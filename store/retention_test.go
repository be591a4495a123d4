package store

import (
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// runSweep calls next until the sweep is done and returns the rows it deleted.
func runSweep(t *testing.T, next func() (int64, bool, error)) int64 {
	t.Helper()
	var total int64
	for range 10000 {
		n, done, err := next()
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if done {
			return total
		}
	}
	t.Fatal("the sweep never ended")
	return 0
}

func TestCallStatusSweepDeletesStaleRowsInBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		const cutoff = 1700000000
		var rows []CallStatus
		var fresh []storedCallStatus
		// Keys, hosts and callers across the signed and unsigned ranges, so that the
		// walk's key order is the table's.
		for i, k := range []route.Key{{Modid: -3, Cmdid: 1}, {Modid: 1, Cmdid: -1}, {Modid: 1, Cmdid: 2}, {Modid: 200, Cmdid: 0}} {
			for j, h := range []route.Host{host("10.0.0.1", 80), host("200.0.0.9", 80), host("200.0.0.9", 9000)} {
				for c, caller := range []int32{wireIP("127.0.0.1"), wireIP("250.1.1.1")} {
					ts := int64(cutoff - 10)
					if (i+j+c)%3 == 0 {
						ts = cutoff + 5
					}
					r := CallStatus{Key: k, Host: h, Caller: caller, Succ: 1, TS: ts}
					rows = append(rows, r)
					if ts >= cutoff {
						ip, port := wireOf(h)
						fresh = append(fresh, storedCallStatus{int64(k.Modid), int64(k.Cmdid), int64(uint32(ip)), int64(port),
							int64(uint32(caller)), 1, 0, ts, "0"})
					}
				}
			}
		}
		if err := db.UpsertCallStatus(ctx, rows); err != nil {
			t.Fatal(err)
		}
		sweep := db.NewCallStatusSweep(time.Unix(cutoff, 0))
		deleted := runSweep(t, func() (int64, bool, error) { return sweep.Next(ctx, 5) })
		if int(deleted) != len(rows)-len(fresh) {
			t.Fatalf("deleted %d rows, want %d of %d", deleted, len(rows)-len(fresh), len(rows))
		}
		got := scanStoredCallStatus(t, db)
		slices.SortFunc(fresh, func(a, b storedCallStatus) int {
			return slices.Compare([]int64{a.Modid, a.Cmdid, a.IP, a.Port, a.Caller}, []int64{b.Modid, b.Cmdid, b.IP, b.Port, b.Caller})
		})
		if !slices.Equal(got, fresh) {
			t.Fatalf("left\n%v\nwant\n%v", got, fresh)
		}
		if n, done, err := sweep.Next(ctx, 5); n != 0 || !done || err != nil {
			t.Fatalf("Next after the end = %d, %v, %v", n, done, err)
		}
		// An empty table: one read, done.
		if _, err := db.SQL().ExecContext(ctx, "DELETE FROM ServerCallStatus"); err != nil {
			t.Fatal(err)
		}
		if n, done, err := db.NewCallStatusSweep(time.Unix(cutoff, 0)).Next(ctx, 5); n != 0 || !done || err != nil {
			t.Fatalf("sweep of an empty table = %d, %v, %v", n, done, err)
		}
	})
}

// historyIDs returns the RouteHistory ids of k, oldest first.
func historyIDs(t *testing.T, db *DB, k route.Key) []uint64 {
	t.Helper()
	entries, err := db.History(testContext(t), HistoryFilter{Modid: &k.Modid, Cmdid: &k.Cmdid, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	slices.Reverse(ids)
	return ids
}

// addHistory writes n RouteHistory rows of k at the given time.
func addHistory(t *testing.T, db *DB, k route.Key, n int, at time.Time) {
	t.Helper()
	for range n {
		if err := insertHistory(testContext(t), db.db, []historyRow{{key: k, after: []route.Host{host("10.0.0.1", 80)}}}, 1, at, "test", "set hosts"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHistorySweepKeepsTheNewestOfEveryKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		old, recent := now.Add(-100*24*time.Hour), now.Add(-time.Hour)
		allOld, allNew, single, many := route.Key{Modid: 1, Cmdid: 1}, route.Key{Modid: 2, Cmdid: 2}, route.Key{Modid: -3, Cmdid: 3}, route.Key{Modid: 4, Cmdid: 4}
		addHistory(t, db, allOld, 5, old)
		addHistory(t, db, single, 1, old)
		addHistory(t, db, allNew, 3, recent)
		addHistory(t, db, many, 4, old)
		addHistory(t, db, many, 10, recent)
		before := map[route.Key][]uint64{}
		for _, k := range []route.Key{allOld, allNew, single, many} {
			before[k] = historyIDs(t, db, k)
		}

		// By age: the old rows go, but the newest of every key.
		sweep, err := db.NewHistorySweep(ctx, HistoryRetention{Before: now.Add(-90 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if deleted := runSweep(t, func() (int64, bool, error) { return sweep.Next(ctx, 2) }); deleted != 4+4 {
			t.Fatalf("age sweep deleted %d rows, want 8", deleted)
		}
		for k, want := range map[route.Key][]uint64{allOld: before[allOld][4:], single: before[single], allNew: before[allNew], many: before[many][4:]} {
			if got := historyIDs(t, db, k); !slices.Equal(got, want) {
				t.Fatalf("key %v: ids %v left, want %v", k, got, want)
			}
		}

		// By count: each key's 3 newest; a row written after the sweep started is not
		// touched, nor is the snapshot's newest.
		sweep, err = db.NewHistorySweep(ctx, HistoryRetention{KeepPerKey: 3})
		if err != nil {
			t.Fatal(err)
		}
		addHistory(t, db, allNew, 1, old) // a writer with a lagging clock, after the snapshot
		if deleted := runSweep(t, func() (int64, bool, error) { return sweep.Next(ctx, 2) }); deleted != 7 {
			t.Fatalf("count sweep deleted %d rows, want the 7 oldest of key %v", deleted, many)
		}
		if got := historyIDs(t, db, many); !slices.Equal(got, before[many][11:]) {
			t.Fatalf("key %v: ids %v left, want its 3 newest %v", many, got, before[many][11:])
		}
		if got := historyIDs(t, db, allNew); len(got) != 4 {
			t.Fatalf("key %v: %d rows left, want its 3 and the one written during the sweep", allNew, len(got))
		}

		// Nothing to do: done at once.
		sweep, err = db.NewHistorySweep(ctx, HistoryRetention{})
		if err != nil {
			t.Fatal(err)
		}
		if n, done, err := sweep.Next(ctx, 2); n != 0 || !done || err != nil {
			t.Fatalf("sweep without a bound = %d, %v, %v", n, done, err)
		}
	})
}
