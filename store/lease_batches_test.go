package store

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// TestApplyLeaseBatches: batches of several owners applied in one call answer each
// request as applying them one after another would; each lease keeps its own owner;
// each changed service's RouteHistory row is by the owners that changed it (sorted,
// distinct); an instance dropped by one batch and registered by a later one of the
// same call ends registered (the call splits there: two registrations, two versions).
func TestApplyLeaseBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		mustEnsureLeases(t, db)
		k1, k2, k3 := route.Key{Modid: 1, Cmdid: 1}, route.Key{Modid: 2, Cmdid: 1}, route.Key{Modid: 3, Cmdid: 1}
		a1, b1 := host("10.0.1.1", 1), host("10.0.1.2", 1)
		x, y, z := host("10.0.2.1", 1), host("10.0.2.2", 1), host("10.0.2.3", 1)
		d := host("10.0.3.1", 1)
		if _, err := db.ApplyLeases(ctx, "agent/b", []LeaseRequest{{k2, z, time.Minute, LeaseNew}, {k3, d, time.Minute, LeaseNew}}); err != nil {
			t.Fatal(err)
		}
		before, err := db.History(ctx, HistoryFilter{Limit: 1})
		if err != nil || len(before) != 1 {
			t.Fatalf("history %v, %v", before, err)
		}
		v0 := mustStamp(t, db).Version

		res, err := db.ApplyLeaseBatches(ctx, []LeaseBatch{
			{"agent/a", []LeaseRequest{{k1, a1, time.Minute, LeaseNew}, {k2, x, time.Minute, LeaseKeep}}},
			{"agent/b", []LeaseRequest{{k1, b1, time.Minute, LeaseNew}, {k2, z, time.Minute, LeaseKeep}, {k3, d, 0, LeaseDrop}}},
			{"agent/c", []LeaseRequest{{k3, d, time.Minute, LeaseNew}}}, // d again: a second run
			{"agent/a", []LeaseRequest{{k2, y, time.Minute, LeaseKeep}}},
			{"agent/a", nil},
		})
		want := [][]Registration{{Registered, Registered}, {Registered, Renewed, Deregistered}, {Registered}, {Registered}, {}}
		if err != nil || fmt.Sprint(res) != fmt.Sprint(want) {
			t.Fatalf("ApplyLeaseBatches: %v, %v; want %v", res, err, want)
		}
		for k, hosts := range map[route.Key][]route.Host{k1: {a1, b1}, k2: {x, y, z}, k3: {d}} {
			if got := mustRoutes(t, db, k); !slices.Equal(got, hosts) {
				t.Fatalf("routes of %v: %v; want %v", k, got, hosts)
			}
		}
		leases := leaseMap(t, db)
		for lk, owner := range map[LeaseKey]string{{k1, a1}: "agent/a", {k1, b1}: "agent/b", {k2, x}: "agent/a",
			{k2, y}: "agent/a", {k2, z}: "agent/b", {k3, d}: "agent/c"} {
			if l, ok := leases[lk]; !ok || l.Owner != owner || !l.Removed.IsZero() {
				t.Fatalf("lease %v: %+v, %v; want owner %s", lk, l, ok, owner)
			}
		}
		if len(leases) != 6 {
			t.Fatalf("leases %v: want 6", leases)
		}
		hist, err := db.History(ctx, HistoryFilter{AfterID: before[0].ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		versions := map[uint64]bool{}
		for _, h := range slices.Backward(hist) {
			got = append(got, fmt.Sprintf("%s %d %s", h.Op, h.Key.Modid, h.Who))
			versions[h.Version] = true
			if h.Version <= v0 {
				t.Fatalf("history row %+v of version %d <= %d", h, h.Version, v0)
			}
		}
		// Run 1: one register transaction (k1 by both owners, k2 by agent/a only: agent/b's
		// z was renewed, not added), one deregister (k3); run 2: one register (k2, k3).
		wantHist := []string{"register 1 agent/a, agent/b", "register 2 agent/a", "deregister 3 agent/b",
			"register 2 agent/a", "register 3 agent/c"}
		if !slices.Equal(got, wantHist) || len(versions) != 3 {
			t.Fatalf("history %q in %d versions; want %q in 3", got, len(versions), wantHist)
		}
	})
}
