package store

import (
	"slices"
	"testing"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

func TestRouteKeysListsEveryKeyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		if keys, err := db.RouteKeys(ctx); err != nil || len(keys) != 0 {
			t.Fatalf("empty store: RouteKeys = %v, %v", keys, err)
		}
		high := route.Key{Modid: -5, Cmdid: 1} // stored as its unsigned number
		for _, k := range []route.Key{{Modid: 1, Cmdid: 1}, {Modid: 1, Cmdid: 2}, high} {
			if _, err := db.SetHosts(ctx, k, []route.Host{host("10.0.0.1", 80), host("10.0.0.2", 80)}); err != nil {
				t.Fatal(err)
			}
		}
		keys, err := db.RouteKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(keys, route.CompareKeys)
		want := []route.Key{{Modid: 1, Cmdid: 1}, {Modid: 1, Cmdid: 2}, high}
		slices.SortFunc(want, route.CompareKeys)
		if !slices.Equal(keys, want) {
			t.Fatalf("RouteKeys = %v, want %v", keys, want)
		}
		if _, err := db.DropKey(ctx, route.Key{Modid: 1, Cmdid: 2}); err != nil {
			t.Fatal(err)
		}
		if keys, err := db.RouteKeys(ctx); err != nil || len(keys) != 2 {
			t.Fatalf("after dropping a key: RouteKeys = %v, %v", keys, err)
		}
	})
}
