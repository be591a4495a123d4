package routesvc

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// TestChangeSignalPushesAtOnce: on SQLite a commit by another process (another DB on
// the file) reaches a subscribed agent through the change counter alone: the stamp's
// own poll and the full reload are an hour away.
func TestChangeSignalPushesAtOnce(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	db := openStore(t, dsn)
	writer := openStore(t, dsn)
	svc := startService(t, db, Config{Poll: time.Hour, Reload: time.Hour})
	a := dial(t, svc)
	a.pull(1, 1)
	a.waitFor(key11, nil, pushWithin)
	for i := range 3 {
		h := host("10.0.0.1", int32(9000+i))
		if _, err := writer.SetHosts(context.Background(), key11, []route.Host{h}); err != nil {
			t.Fatal(err)
		}
		a.waitFor(key11, []route.Host{h}, pushWithin)
	}
	if st := svc.Stats(); st.SignalFired < 3 || st.FullLoads != 1 {
		t.Fatalf("signal fired %d times, full loads %d: want 3 or more, and only the first load", st.SignalFired, st.FullLoads)
	}
}

// untold is a change signal whose store does not tell of its writes (SQLite off
// Linux): it is read every Watch.
type untold struct{ *store.ChangeSignal }

func (untold) Writes() <-chan struct{} { return nil }

// TestChangeSignalReadOnATimer: where the store's writes are not told, the change
// counter read every Watch still brings a commit to the agent at once.
func TestChangeSignalReadOnATimer(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	db := openStore(t, dsn)
	writer := openStore(t, dsn)
	svc := startService(t, db, Config{Poll: time.Hour, Reload: time.Hour}, func(svc *Service) {
		svc.sync.openSig = func(ctx context.Context) (changeSignal, error) {
			sig, err := db.OpenChangeSignal(ctx)
			return untold{sig}, err
		}
	})
	a := dial(t, svc)
	a.pull(1, 1)
	a.waitFor(key11, nil, pushWithin)
	waitUntil(t, eventWithin, "the counter read on the timer", func() bool { return svc.Stats().SignalReads >= 3 })
	fired := svc.Stats().SignalFired
	h := host("10.0.0.3", 9000)
	if _, err := writer.SetHosts(context.Background(), key11, []route.Host{h}); err != nil {
		t.Fatal(err)
	}
	a.waitFor(key11, []route.Host{h}, pushWithin)
	if st := svc.Stats(); st.SignalFired <= fired || st.FullLoads != 1 {
		t.Fatalf("signal fired %d times (%d before the write), full loads %d: want the write found by the counter", st.SignalFired, fired, st.FullLoads)
	}
}

// TestDeletedChangeRowsStillPushed: a C++ lars_dns on the same store deletes every
// RouteChange row it has seen (here at once, after each write: the worst case); every
// change still reaches the agent, through the gap it leaves, not the full reload an hour
// away.
func TestDeletedChangeRowsStillPushed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		poll := DefaultPollUnsignalled // MySQL/MariaDB: the stamp is the signal
		if strings.HasPrefix(dsn, "sqlite:") {
			poll = time.Hour // the change counter alone
		}
		svc := startService(t, db, Config{Poll: poll, Reload: time.Hour})
		a := dial(t, svc)
		a.pull(1, 1)
		a.waitFor(key11, nil, pushWithin)
		ctx := context.Background()
		for i := range 10 {
			h := host("10.0.0.2", int32(9000+i))
			if _, err := db.SetHosts(ctx, key11, []route.Host{h}); err != nil {
				t.Fatal(err)
			}
			// What lars_dns's remove_changes does after each of its polls.
			if _, err := db.SQL().ExecContext(ctx, "DELETE FROM RouteChange WHERE version <= (SELECT version FROM RouteVersion WHERE id = 1)"); err != nil {
				t.Fatal(err)
			}
			a.waitFor(key11, []route.Host{h}, pushWithin)
		}
	})
}

// scriptedStore is a store whose stamp and change rows a test sets, and which counts
// full reads.
type scriptedStore struct {
	nopStore
	stamp store.Stamp
	rows  []store.Change
	scans int
}

func (s *scriptedStore) Stamp(context.Context) (store.Stamp, error) { return s.stamp, nil }
func (s *scriptedStore) ChangesAfter(_ context.Context, id uint64, _ int) ([]store.Change, error) {
	var out []store.Change
	for _, r := range s.rows {
		if r.ID > id {
			out = append(out, r)
		}
	}
	return out, nil
}
func (s *scriptedStore) ScanRoutes(context.Context, func(route.Key, route.Host)) error {
	s.scans++
	return nil
}

// TestPollGaps: the poll reads only the new change rows when they tell every change,
// and every route (a full load) when they cannot: rows deleted before they were read,
// a version beyond the newest row's, a version moved with no new row. Rows deleted after
// they were applied change nothing.
func TestPollGaps(t *testing.T) {
	st := &scriptedStore{}
	svc, err := New(Config{Store: st, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s := &svc.sync
	s.lastChange.Store(5)
	s.version.Store(100)
	row := func(id, version uint64) store.Change { return store.Change{ID: id, Key: key11, Version: version} }
	for _, c := range []struct {
		name      string
		stamp     store.Stamp
		rows      []store.Change
		fullLoads int
		gap       bool
	}{
		{"nothing new", store.Stamp{Version: 100, LastChange: 5, FirstChange: 1}, nil, 0, false},
		{"new rows, all there", store.Stamp{Version: 101, LastChange: 7, FirstChange: 1}, []store.Change{row(6, 101), row(7, 101)}, 0, false},
		{"rows deleted before read", store.Stamp{Version: 103, LastChange: 10, FirstChange: 10}, []store.Change{row(10, 103)}, 1, true},
		{"version beyond the rows", store.Stamp{Version: 105, LastChange: 11, FirstChange: 10}, []store.Change{row(11, 104)}, 1, true},
		{"version moved, no row", store.Stamp{Version: 106, LastChange: 11, FirstChange: 10}, nil, 1, true},
		{"applied rows deleted", store.Stamp{Version: 106, LastChange: 0, FirstChange: 0}, nil, 0, false},
	} {
		st.stamp, st.rows, st.scans = c.stamp, c.rows, 0
		gaps := svc.Stats().Gaps
		if err := s.poll(context.Background()); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if st.scans != c.fullLoads {
			t.Errorf("%s: %d full loads, want %d", c.name, st.scans, c.fullLoads)
		}
		if got := svc.Stats().Gaps - gaps; got != map[bool]uint64{false: 0, true: 1}[c.gap] {
			t.Errorf("%s: %d gaps counted, want gap %v", c.name, got, c.gap)
		}
		if s.version.Load() != c.stamp.Version {
			t.Errorf("%s: version %d after the poll, want %d", c.name, s.version.Load(), c.stamp.Version)
		}
	}
}
