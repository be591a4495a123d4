package store

import (
	"fmt"
	"slices"
	"testing"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

func TestRoutesOfManyKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		routes := bigRoutes(1200, 2, 0)
		if _, err := db.ReplaceKeys(ctx, routes); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 1200} {
			var keys []route.Key
			for k := range routes {
				if len(keys) == n {
					break
				}
				keys = append(keys, k)
			}
			// Unknown keys and repeats are allowed; unknown keys stay absent.
			asked := append(slices.Clone(keys), route.Key{Modid: 999, Cmdid: 999})
			if n > 0 {
				asked = append(asked, keys[0])
			}
			got, err := db.Routes(ctx, asked)
			if err != nil {
				t.Fatalf("%d keys: %v", n, err)
			}
			if len(got) != n {
				t.Errorf("%d keys: got %d", n, len(got))
			}
			for _, k := range keys {
				if want := route.Normalize(slices.Clone(routes[k])); !slices.Equal(got[k], want) {
					t.Errorf("%v: %v, want %v", k, got[k], want)
				}
			}
		}
		if got, err := db.Routes(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("Routes(nil) = %v, %v", got, err)
		}
	})
}

func TestScanRoutesStreamsEveryRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		if _, err := db.SQL().ExecContext(ctx, "INSERT INTO RouteData (modid, cmdid, serverip, serverport) VALUES (1, 2, 4294967295, 1), (1, 2, 4294967295, 1), (3, 4, 0, 65535)"); err != nil {
			t.Fatal(err)
		}
		var rows []string
		err := db.ScanRoutes(ctx, func(k route.Key, h route.Host) { rows = append(rows, fmt.Sprint(k, h)) })
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(rows)
		if want := []string{"1/2 255.255.255.255:1", "1/2 255.255.255.255:1", "3/4 0.0.0.0:65535"}; !slices.Equal(rows, want) {
			t.Errorf("rows %q, want %q (duplicates included)", rows, want)
		}
	})
}

func TestUpsertSQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		cols := []string{"modid", "cmdid", "ip", "port", "caller", "succ_cnt", "err_cnt", "ts", "overload"}
		key := []string{"modid", "cmdid", "ip", "port", "caller"}
		upsert := func(rows ...[]any) {
			t.Helper()
			var args []any
			for _, r := range rows {
				args = append(args, r...)
			}
			if _, err := db.SQL().ExecContext(ctx, db.UpsertSQL("ServerCallStatus", cols, key, len(rows)), args...); err != nil {
				t.Fatal(err)
			}
		}
		upsert([]any{1, 1, 3232235777, 80, 7, 10, 1, 100, "0"}, []any{1, 1, 3232235777, 81, 7, 5, 0, 100, "0"})
		upsert([]any{1, 1, 3232235777, 80, 7, 20, 9, 200, "1"})
		var succ, errs, ts int64
		var overload string
		err := db.SQL().QueryRowContext(ctx, "SELECT succ_cnt, err_cnt, ts, overload FROM ServerCallStatus WHERE port = 80").Scan(&succ, &errs, &ts, &overload)
		if err != nil {
			t.Fatal(err)
		}
		if succ != 20 || errs != 9 || ts != 200 || overload != "1" {
			t.Errorf("row after upsert: %d %d %d %q, want the latest counts", succ, errs, ts, overload)
		}
		if n := countRows(t, db, "ServerCallStatus"); n != 2 {
			t.Errorf("%d rows, want 2", n)
		}
	})
}

func TestNormalizeHostsOrdersUnsigned(t *testing.T) {
	got := route.Normalize([]route.Host{route.FromWire(-1, 2), route.FromWire(1, 2), route.FromWire(-1, 1), route.FromWire(1, 2)})
	want := []route.Host{route.FromWire(1, 2), route.FromWire(-1, 1), route.FromWire(-1, 2)}
	if !slices.Equal(got, want) {
		t.Errorf("route.Normalize = %v, want %v", got, want)
	}
}
