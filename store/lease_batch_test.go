package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/internal/waitfor"
	"github.com/larsgo/lars/route"
)

// TestApplyLeasesBatch: one batch registers new instances through the write path (one
// version), renews live ones without a route write, leaves an operator's host static,
// removes the dropped ones; a batch of live leases only is renewed without touching the
// version.
func TestApplyLeasesBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		mustEnsureLeases(t, db)
		k1, k2 := route.Key{Modid: 1, Cmdid: 1}, route.Key{Modid: 2, Cmdid: 1}
		a, b, c, static := host("10.0.0.1", 1), host("10.0.0.2", 1), host("10.0.0.3", 1), host("10.0.0.9", 1)
		if _, err := db.AddHost(ctx, k1, static); err != nil {
			t.Fatal(err)
		}
		v0 := mustStamp(t, db).Version
		res, err := db.ApplyLeases(ctx, "agent/x", []LeaseRequest{
			{k1, a, time.Minute, LeaseKeep}, {k1, static, time.Minute, LeaseNew}, {k2, b, time.Minute, LeaseNew},
			{k2, b, time.Minute, LeaseKeep}, {k2, c, time.Minute, LeaseDrop},
		})
		if want := []Registration{Registered, Static, Registered, Registered, Deregistered}; err != nil || !slices.Equal(res, want) {
			t.Fatalf("ApplyLeases: %v, %v; want %v", res, err, want)
		}
		if got := mustRoutes(t, db, k1); !slices.Equal(got, []route.Host{a, static}) {
			t.Fatalf("routes of k1 %v", got)
		}
		if got := mustRoutes(t, db, k2); !slices.Equal(got, []route.Host{b}) {
			t.Fatalf("routes of k2 %v", got)
		}
		v1 := mustStamp(t, db).Version
		if v1 == v0 {
			t.Fatal("a registration wrote no version")
		}
		hist, err := db.History(ctx, HistoryFilter{Limit: 2})
		if err != nil || len(hist) != 2 || hist[0].Who != "agent/x" || hist[0].Op != "register" {
			t.Fatalf("history %+v, %v: want register rows by agent/x", hist, err)
		}
		// Live leases only: renewed in one statement, no version.
		res, err = db.ApplyLeases(ctx, "agent/x", []LeaseRequest{{k1, a, time.Hour, LeaseKeep}, {k2, b, 2 * time.Hour, LeaseKeep}})
		if err != nil || !slices.Equal(res, []Registration{Renewed, Renewed}) {
			t.Fatalf("renewal: %v, %v", res, err)
		}
		if mustStamp(t, db).Version != v1 {
			t.Fatal("a renewal wrote a route change")
		}
		leases := leaseMap(t, db)
		if until := leases[LeaseKey{k2, b}].Until; until.Before(time.Now().Add(110 * time.Minute)) {
			t.Fatalf("k2's lease ends %v: want about 2 h from now", until)
		}
		// Dropping: only the lease's host goes.
		res, err = db.ApplyLeases(ctx, "agent/x", []LeaseRequest{{k1, a, 0, LeaseDrop}, {k1, static, 0, LeaseDrop}})
		if err != nil || !slices.Equal(res, []Registration{Deregistered, Deregistered}) {
			t.Fatalf("drop: %v, %v", res, err)
		}
		if got := mustRoutes(t, db, k1); !slices.Equal(got, []route.Host{static}) {
			t.Fatalf("routes of k1 after the drops %v: want the static host", got)
		}
	})
}

// TestLeaseTombstones: an operator removing a registered host makes its lease a
// tombstone in the same write; a KEEP of it is Removed, a renewal reports it removed,
// the expiry skips it; a NEW registers it again; an operator adding a host back makes
// it static; tombstones are pruned after their age.
func TestLeaseTombstones(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		mustEnsureLeases(t, db)
		k := route.Key{Modid: 3, Cmdid: 1}
		h, other := host("10.3.0.1", 80), host("10.3.0.2", 80)
		for _, x := range []route.Host{h, other} {
			if _, err := db.Register(ctx, k, x, "agent/a", time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.DelHost(ctx, k, h); err != nil {
			t.Fatal(err)
		}
		l := leaseMap(t, db)[LeaseKey{k, h}]
		if l.Removed.IsZero() {
			t.Fatalf("lease %+v after an operator removed its host: want a tombstone", l)
		}
		hist, _ := db.History(ctx, HistoryFilter{Limit: 1})
		if len(hist) != 1 || hist[0].Op != "delete host" {
			t.Fatalf("history %+v", hist)
		}
		// Wait until the 1 ms leases ended by the database's clock: the expiry takes the
		// other one, not the tombstone.
		if !waitfor.Poll(30*time.Second, func() bool {
			ls, err := db.expiredLeases(ctx, db.db, nil, 0)
			return err == nil && len(ls) == 1
		}) {
			t.Fatal("the 1 ms lease did not end")
		}
		expired, err := db.ExpireLeases(ctx, 0)
		if err != nil || len(expired) != 1 || expired[0].Host != other {
			t.Fatalf("ExpireLeases: %+v, %v; want only the live one's", expired, err)
		}
		rep, err := db.Renew(ctx, []Renewal{{LeaseKey{k, h}, time.Minute}})
		if err != nil || rep.Renewed != 0 || !slices.Equal(rep.Removed, []LeaseKey{{k, h}}) {
			t.Fatalf("Renew of a tombstone: %+v, %v", rep, err)
		}
		res, err := db.ApplyLeases(ctx, "agent/a", []LeaseRequest{{k, h, time.Minute, LeaseKeep}})
		if err != nil || res[0] != Removed {
			t.Fatalf("KEEP of a tombstone: %v, %v; want Removed", res, err)
		}
		if got := mustRoutes(t, db, k); len(got) != 0 {
			t.Fatalf("routes %v: a KEEP brought a removed instance back", got)
		}
		res, err = db.ApplyLeases(ctx, "agent/a", []LeaseRequest{{k, h, time.Minute, LeaseNew}})
		if err != nil || res[0] != Registered {
			t.Fatalf("NEW of a tombstone: %v, %v; want Registered", res, err)
		}
		if l := leaseMap(t, db)[LeaseKey{k, h}]; !l.Removed.IsZero() || mustRoutesLen(t, db, k) != 1 {
			t.Fatalf("lease %+v after NEW: want live, in the route", l)
		}
		// Removed again, then added by an operator: static, no lease row.
		if _, err := db.DelHost(ctx, k, h); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddHost(ctx, k, h); err != nil {
			t.Fatal(err)
		}
		if _, ok := leaseMap(t, db)[LeaseKey{k, h}]; ok {
			t.Fatal("a host an operator added back still has a lease row")
		}
		if r, err := db.Register(ctx, k, h, "agent/a", time.Minute); err != nil || r != Static {
			t.Fatalf("Register of the host added back: %v, %v; want Static", r, err)
		}
		// Pruning.
		if _, err := db.Register(ctx, k, other, "agent/a", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := db.DropKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if n, err := db.PruneTombstones(ctx, TombstoneAge); err != nil || n != 0 {
			t.Fatalf("PruneTombstones of a fresh tombstone: %d, %v", n, err)
		}
		if !waitfor.Poll(30*time.Second, func() bool {
			n, err := db.PruneTombstones(ctx, 0)
			return err == nil && n == 1
		}) {
			t.Fatal("the tombstone was not pruned")
		}
		if ls, _ := db.Leases(ctx); len(ls) != 0 {
			t.Fatalf("leases %+v after pruning", ls)
		}
	})
}

// TestRenewExtensions: each lease is extended by its own extension, rounded down to
// 100 ms, in one statement per group; an extension under 100 ms is not written.
func TestRenewExtensions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		mustEnsureLeases(t, db)
		k := route.Key{Modid: 4, Cmdid: 1}
		var renewals []Renewal
		for i := range 2500 {
			h := host("10.4.0.1", int32(i+1))
			renewals = append(renewals, Renewal{LeaseKey{k, h}, time.Hour + time.Duration(i%2)*time.Hour + 50*time.Millisecond})
		}
		reqs := make([]LeaseRequest, len(renewals))
		for i, r := range renewals {
			reqs[i] = LeaseRequest{k, r.Host, time.Minute, LeaseNew}
		}
		if _, err := db.ApplyLeases(ctx, "agent/r", reqs); err != nil {
			t.Fatal(err)
		}
		renewals = append(renewals, Renewal{LeaseKey{k, host("10.4.0.2", 1)}, 99 * time.Millisecond})
		rep, err := db.Renew(ctx, renewals)
		// 1250 of 1 h (2 statements), 1250 of 2 h (2 statements); the 99 ms one none.
		if err != nil || rep.Renewed != 2500 || rep.Statements != 4 || len(rep.Gone) != 0 {
			t.Fatalf("Renew: %+v, %v; want 2500 renewed in 4 statements", rep, err)
		}
		now := time.Now()
		for lk, l := range leaseMap(t, db) {
			want := time.Hour
			if lk.Host.Addr.Port()%2 == 0 {
				want = 2 * time.Hour
			}
			if d := l.Until.Sub(now); d < want-time.Minute || d > want+time.Minute {
				t.Fatalf("lease of %v ends in %v, want about %v", lk.Host, d, want)
			}
		}
	})
}

// TestOperatorWritesWithoutLeaseTable: on a database where nobody registered (no
// LarsLease), an operator's writes work as before.
func TestOperatorWritesWithoutLeaseTable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		k := route.Key{Modid: 5, Cmdid: 1}
		if _, err := db.SetHosts(ctx, k, []route.Host{host("10.5.0.1", 1), host("10.5.0.2", 1)}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetHosts(ctx, k, []route.Host{host("10.5.0.3", 1)}); err != nil {
			t.Fatal(err)
		}
		if got := mustRoutes(t, db, k); !slices.Equal(got, []route.Host{host("10.5.0.3", 1)}) {
			t.Fatalf("routes %v", got)
		}
	})
}

func mustEnsureLeases(t *testing.T, db *DB) {
	t.Helper()
	if err := db.EnsureLeases(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// leaseMap returns every lease by its key.
func leaseMap(t *testing.T, db *DB) map[LeaseKey]Lease {
	t.Helper()
	ls, err := db.Leases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[LeaseKey]Lease{}
	for _, l := range ls {
		m[LeaseKey{l.Key, l.Host}] = l
	}
	return m
}

func mustRoutesLen(t *testing.T, db *DB, k route.Key) int {
	t.Helper()
	return len(mustRoutes(t, db, k))
}
