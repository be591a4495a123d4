package store

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/internal/waitfor"
	"github.com/larsgo/lars/route"
)

// TestLeasesRegisterRenewDeregister: a registration adds the instance through the one
// write path (RouteChange, RouteHistory naming its owner) with a lease on the
// database's clock; again, it renews; a host an operator wrote stays static; Renew
// extends only leases that exist; Deregister removes only registered hosts.
func TestLeasesRegisterRenewDeregister(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		if err := db.EnsureLeases(ctx); err != nil {
			t.Fatal(err)
		}
		k := route.Key{Modid: 7, Cmdid: 1}
		h, static := host("10.0.0.1", 9000), host("10.0.0.2", 9000)
		before := time.Now()
		if r, err := db.Register(ctx, k, h, "agent/web-1", time.Minute); err != nil || r != Registered {
			t.Fatalf("Register: %v, %v; want Registered", r, err)
		}
		if got := mustRoutes(t, db, k); !slices.Equal(got, []route.Host{h}) {
			t.Fatalf("routes %v, want the registered host", got)
		}
		hist, err := db.History(ctx, HistoryFilter{})
		if err != nil || len(hist) != 1 || hist[0].Op != "register" || hist[0].Who != "agent/web-1" {
			t.Fatalf("history %+v, %v: want one register row by agent/web-1", hist, err)
		}
		leases, err := db.Leases(ctx)
		if err != nil || len(leases) != 1 || leases[0].Owner != "agent/web-1" ||
			leases[0].Until.Before(before.Add(50*time.Second)) || leases[0].Until.After(time.Now().Add(70*time.Second)) {
			t.Fatalf("leases %+v, %v: want one, about a minute from now", leases, err)
		}
		v := mustStamp(t, db).Version
		if r, err := db.Register(ctx, k, h, "agent/web-1", time.Minute); err != nil || r != Renewed {
			t.Fatalf("Register again: %v, %v; want Renewed", r, err)
		}
		if mustStamp(t, db).Version != v {
			t.Fatal("a renewal wrote a route change")
		}
		if _, err := db.AddHost(ctx, k, static); err != nil {
			t.Fatal(err)
		}
		if r, err := db.Register(ctx, k, static, "agent/web-2", time.Minute); err != nil || r != Static {
			t.Fatalf("Register of an operator's host: %v, %v; want Static", r, err)
		}
		gone := []LeaseKey{{k, static}, {route.Key{Modid: 9, Cmdid: 9}, h}}
		rep, err := db.Renew(ctx, []Renewal{{LeaseKey{k, h}, time.Hour}, {gone[0], time.Hour}, {gone[1], time.Hour}})
		if err != nil || rep.Renewed != 1 || !slices.Equal(rep.Gone, gone) || len(rep.Removed) != 0 {
			t.Fatalf("Renew: %+v, %v; want the one lease that exists renewed, the others gone", rep, err)
		}
		if leases, _ := db.Leases(ctx); len(leases) != 1 || leases[0].Until.Before(time.Now().Add(50*time.Minute)) {
			t.Fatalf("leases %+v after Renew for an hour", leases)
		}
		if ok, err := db.Deregister(ctx, k, static, "agent/web-2"); err != nil || ok {
			t.Fatalf("Deregister of a static host: %v, %v; want false", ok, err)
		}
		if ok, err := db.Deregister(ctx, k, h, "agent/web-1"); err != nil || !ok {
			t.Fatalf("Deregister: %v, %v; want true", ok, err)
		}
		if got := mustRoutes(t, db, k); !slices.Equal(got, []route.Host{static}) {
			t.Fatalf("routes %v, want only the static host", got)
		}
		if leases, _ := db.Leases(ctx); len(leases) != 0 {
			t.Fatalf("leases %+v after Deregister", leases)
		}
	})
}

// TestLeasesExpireOnce: instances whose leases ended are removed through the write
// path ("expire"); a live lease and a static host stay; two route services expiring at
// once remove each instance once.
func TestLeasesExpireOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, other := openT(t, dsn), openT(t, dsn)
		ctx := testContext(t)
		if err := db.EnsureLeases(ctx); err != nil {
			t.Fatal(err)
		}
		k := route.Key{Modid: 8, Cmdid: 1}
		live, static := host("10.1.0.1", 1), host("10.1.0.2", 1)
		if _, err := db.AddHost(ctx, k, static); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Register(ctx, k, live, "agent/a", time.Hour); err != nil {
			t.Fatal(err)
		}
		const n = 40
		for i := range n {
			if _, err := db.Register(ctx, k, host("10.2.0.1", int32(i+1)), "agent/b", time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		// Wait, by the database's clock, until every short lease has ended.
		if !waitfor.Poll(30*time.Second, func() bool {
			leases, err := db.expiredLeases(ctx, db.db, nil, 0)
			return err == nil && len(leases) == n
		}) {
			t.Fatal("the 1 ms leases did not end within 30 s by the database's clock")
		}
		var wg sync.WaitGroup
		var got [2][]Lease
		var errs [2]error
		for i, d := range []*DB{db, other} {
			wg.Go(func() { got[i], errs[i] = d.ExpireLeases(ctx, 0) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatal(errs)
		}
		if removed := len(got[0]) + len(got[1]); removed != n {
			t.Fatalf("removed %d + %d, want %d once each", len(got[0]), len(got[1]), n)
		}
		if routes := mustRoutes(t, db, k); !slices.Equal(routes, []route.Host{live, static}) {
			t.Fatalf("routes %v, want the live and the static host", routes)
		}
		if leases, _ := db.Leases(ctx); len(leases) != 1 || leases[0].Host != live {
			t.Fatalf("leases %+v, want the live one", leases)
		}
		hist, err := db.History(ctx, HistoryFilter{Limit: 5})
		if err != nil || hist[0].Op != "expire" || hist[0].Who != "lease expired" {
			t.Fatalf("history %+v, %v: want the expiry, newest first", hist, err)
		}
	})
}
