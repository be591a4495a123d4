package reportsvc

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// TestRetentionDeletesOldRows: the sweep the service runs when it starts deletes the
// ServerCallStatus rows not updated within StatusRetention and the RouteHistory rows
// older than HistoryRetention, but the newest of each key, and counts them.
func TestRetentionDeletesOldRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		ctx := context.Background()
		now := time.Now().Add(100 * 24 * time.Hour) // the service's clock: the history written now is 100 days old
		stale, fresh := now.Add(-8*24*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		err := db.UpsertCallStatus(ctx, []store.CallStatus{
			{Key: route.Key{Modid: 1, Cmdid: 1}, Host: route.FromWire(ip1, 80), Caller: caller1, TS: stale},
			{Key: route.Key{Modid: 1, Cmdid: 1}, Host: route.FromWire(ip2, 80), Caller: caller1, TS: fresh},
			{Key: route.Key{Modid: 2, Cmdid: 1}, Host: route.FromWire(ipHigh, 80), Caller: caller2, TS: stale},
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := db.SetHosts(ctx, route.Key{Modid: 1, Cmdid: 1}, []route.Host{route.FromWire(ip1, int32(80+i))}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.SetHosts(ctx, route.Key{Modid: 2, Cmdid: 1}, []route.Host{route.FromWire(ip1, 80)}); err != nil {
			t.Fatal(err)
		}
		svc := startService(t, db, Config{Now: func() time.Time { return now }, StatusRetention: 7 * 24 * time.Hour,
			HistoryRetention: 90 * 24 * time.Hour, RetentionBatch: 2})
		waitUntil(t, settle, "the first sweep", func() bool { return svc.Stats().PruneSweeps >= 1 })
		st := svc.Stats()
		if st.StatusPruned != 2 || st.HistoryPruned != 2 || st.PruneErrors != 0 {
			t.Fatalf("stats %+v: want 2 call status and 2 history rows deleted", st)
		}
		if got := rows(t, db); len(got) != 1 || got[0].TS != fresh {
			t.Fatalf("call status left %v, want the fresh row only", got)
		}
		h, err := db.History(ctx, store.HistoryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 2 || h[0].Key == h[1].Key {
			t.Fatalf("history left %+v, want the newest row of each key", h)
		}
		var m bytes.Buffer
		svc.WriteMetrics(&m)
		for _, want := range []string{`lars_reporter_retention_deleted_rows_total{table="ServerCallStatus"} 2`,
			`lars_reporter_retention_deleted_rows_total{table="RouteHistory"} 2`, "lars_reporter_retention_errors_total 0"} {
			if !strings.Contains(m.String(), want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	})
}

// TestRetentionKeepsRowsWhenOff: without retention settings nothing is deleted.
func TestRetentionKeepsRowsWhenOff(t *testing.T) {
	db := openStore(t, "sqlite:"+t.TempDir()+"/lars.db")
	if err := db.UpsertCallStatus(context.Background(), []store.CallStatus{{Key: route.Key{Modid: 1, Cmdid: 1}, Host: route.FromWire(0, 0), TS: 1}}); err != nil {
		t.Fatal(err)
	}
	svc := startService(t, db, Config{})
	a := dial(t, svc.Service)
	a.report(1, 1, caller1, tsReport, result{ip1, 80, 1, 0, false})
	waitSettled(t, svc.Service, 1, settle)
	if st := svc.Stats(); st.PruneSweeps != 0 || len(rows(t, db)) != 2 {
		t.Fatalf("stats %+v, rows %v: want no sweep, both rows kept", st, rows(t, db))
	}
}
