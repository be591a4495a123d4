package reportsvc

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// TestUnknownKeysAreDroppedAndNewKeysLand: with the filter on, rows of a key the route
// store does not hold are dropped and counted; once the key gets a host, its reports
// land within the refresh.
func TestUnknownKeysAreDroppedAndNewKeysLand(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		ctx := context.Background()
		known, unknown := route.Key{Modid: 1, Cmdid: 1}, route.Key{Modid: 9, Cmdid: 9}
		if _, err := db.SetHosts(ctx, known, []route.Host{route.FromWire(ip1, 80)}); err != nil {
			t.Fatal(err)
		}
		svc := startService(t, db, Config{KnownKeysRefresh: 10 * time.Millisecond})
		if st := svc.Stats(); !st.KnownKeysLoaded || st.KnownKeys != 1 {
			t.Fatalf("when ready: %+v, want the one key loaded", st)
		}
		a := dial(t, svc.Service)
		a.report(9, 9, caller1, tsReport, result{ip1, 80, 1, 0, false}, result{ip2, 80, 1, 0, false})
		a.report(1, 1, caller1, tsReport, result{ip1, 80, 5, 0, false})
		st := waitSettled(t, svc.Service, 3, settle)
		if st.DroppedUnknownKey != 2 || st.RowsWritten != 1 {
			t.Fatalf("stats %+v: want the two rows of 9/9 dropped as unknown, 1/1 written", st)
		}
		if got := rows(t, db); len(got) != 1 || got[0].Modid != 1 {
			t.Fatalf("stored %v, want only key 1/1", got)
		}

		if _, err := db.SetHosts(ctx, unknown, []route.Host{route.FromWire(ip2, 80)}); err != nil {
			t.Fatal(err)
		}
		// The agent reports every few seconds; here as often as it takes.
		waitUntil(t, settle, "a report of the new key stored", func() bool {
			a.report(9, 9, caller1, tsReport, result{ip2, 80, 7, 0, false})
			for _, r := range rows(t, db) {
				if r.Modid == 9 && r.Succ == 7 {
					return true
				}
			}
			time.Sleep(5 * time.Millisecond)
			return false
		})
		if st := svc.Stats(); st.KnownKeys != 2 || st.KeyLoads < 2 {
			t.Fatalf("stats %+v: want both keys known after a reload", st)
		}
	})
}

// fakeKeys is a KeySource whose keys and failures the test sets.
type fakeKeys struct {
	nopStore
	mu       sync.Mutex
	stamp    store.Stamp
	keys     []route.Key
	fail     bool
	keyReads int
}

var errKeysDown = errors.New("keys unreadable (injected)")

func (f *fakeKeys) Stamp(context.Context) (store.Stamp, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return store.Stamp{}, errKeysDown
	}
	return f.stamp, nil
}

func (f *fakeKeys) RouteKeys(context.Context) ([]route.Key, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errKeysDown
	}
	f.keyReads++
	return slices.Clone(f.keys), nil
}

func (f *fakeKeys) set(fn func(f *fakeKeys)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

// TestKnownKeysBeforeTheFirstLoadKeepEverything: while the keys cannot be read, every
// key passes (an unreachable store must not make real reports vanish); the first
// successful read turns the filter on; the keys are read again only when the stamp
// changes; a failed read later keeps the set it had.
func TestKnownKeysBeforeTheFirstLoadKeepEverything(t *testing.T) {
	src := &fakeKeys{fail: true, keys: []route.Key{{Modid: 1, Cmdid: 1}}, stamp: store.Stamp{Version: 1}}
	kk := &knownKeys{src: src}
	ctx := context.Background()
	if _, err := kk.refresh(ctx); err == nil {
		t.Fatal("refresh of a failing source succeeded")
	}
	if !kk.allows(route.Key{Modid: 5, Cmdid: 5}) {
		t.Fatal("a key was refused before any set was loaded")
	}
	src.set(func(f *fakeKeys) { f.fail = false })
	if reloaded, err := kk.refresh(ctx); err != nil || !reloaded {
		t.Fatalf("first refresh = %v, %v", reloaded, err)
	}
	if kk.allows(route.Key{Modid: 5, Cmdid: 5}) || !kk.allows(route.Key{Modid: 1, Cmdid: 1}) {
		t.Fatal("after the first load: an unknown key passes or the known one does not")
	}
	for range 3 {
		if reloaded, err := kk.refresh(ctx); err != nil || reloaded {
			t.Fatalf("refresh with an unchanged stamp = %v, %v; want no reload", reloaded, err)
		}
	}
	if src.keyReads != 1 {
		t.Fatalf("keys read %d times with the stamp unchanged, want 1", src.keyReads)
	}
	src.set(func(f *fakeKeys) { f.stamp.LastChange++; f.keys = append(f.keys, route.Key{Modid: 5, Cmdid: 5}) })
	if reloaded, err := kk.refresh(ctx); err != nil || !reloaded || !kk.allows(route.Key{Modid: 5, Cmdid: 5}) {
		t.Fatalf("refresh after the stamp changed = %v, %v; key 5/5 allowed %v", reloaded, err, kk.allows(route.Key{Modid: 5, Cmdid: 5}))
	}
	src.set(func(f *fakeKeys) { f.fail = true })
	if _, err := kk.refresh(ctx); err == nil || !kk.allows(route.Key{Modid: 5, Cmdid: 5}) || kk.allows(route.Key{Modid: 6, Cmdid: 6}) {
		t.Fatal("a failed refresh changed the set")
	}
}

// TestServiceServesWhileTheKeysCannotBeRead: a service whose first read of the keys
// fails serves anyway and keeps every key's rows, counting the failures.
func TestServiceServesWhileTheKeysCannotBeRead(t *testing.T) {
	src := &fakeKeys{fail: true}
	svc := startService(t, src, Config{KnownKeysRefresh: time.Millisecond})
	a := dial(t, svc.Service)
	a.report(4, 4, caller1, tsReport, result{ip1, 80, 1, 0, false})
	st := waitSettled(t, svc.Service, 1, settle)
	if st.RowsWritten != 1 || st.DroppedUnknownKey != 0 || st.KnownKeysLoaded {
		t.Fatalf("stats %+v: want the row kept while no set is loaded", st)
	}
	waitUntil(t, settle, "failed reads counted", func() bool { return svc.Stats().KeyLoadErrors >= 2 })
	src.set(func(f *fakeKeys) { f.fail = false })
	waitUntil(t, settle, "the set loaded once the source answers", func() bool { return svc.Stats().KnownKeysLoaded })
	a.report(4, 4, caller1, tsReport, result{ip1, 80, 2, 0, false})
	waitUntil(t, settle, "the unknown key dropped", func() bool { return svc.Stats().DroppedUnknownKey == 1 })
}
