package store

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

func TestWritesInLarsConvention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		k := route.Key{Modid: 7, Cmdid: 1}
		other := route.Key{Modid: 7, Cmdid: 2}
		a, b, c := host("10.0.0.1", 80), host("192.168.1.1", 8080), host("10.0.0.3", 81)
		if _, err := db.SetHosts(ctx, other, []route.Host{c}); err != nil {
			t.Fatal(err)
		}

		last := mustStamp(t, db)
		// step checks one write: its changed result, k's hosts after it, and that a change
		// makes exactly one RouteChange row for k with a new, higher version while no
		// change leaves the stamp alone.
		step := func(name string, changed bool, err error, wantChanged bool, wantHosts []route.Host) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if changed != wantChanged {
				t.Errorf("%s: changed = %v, want %v", name, changed, wantChanged)
			}
			if got := mustRoutes(t, db, k); fmt.Sprint(got) != fmt.Sprint(wantHosts) {
				t.Errorf("%s: hosts %v, want %v", name, got, wantHosts)
			}
			s := mustStamp(t, db)
			news := mustChanges(t, db, last.LastChange)
			switch {
			case !wantChanged && (s != last || len(news) != 0):
				t.Errorf("%s: no-op write moved the stamp %+v -> %+v, change rows %v", name, last, s, news)
			case wantChanged && (len(news) != 1 || news[0].Key != k || news[0].Version != s.Version || s.Version <= last.Version || s.LastChange != news[0].ID):
				t.Errorf("%s: stamp %+v -> %+v, change rows %v; want one row for %v at the new, higher version", name, last, s, news, k)
			}
			last = s
		}
		changed, err := db.AddHost(ctx, k, a)
		step("add a", changed, err, true, []route.Host{a})
		changed, err = db.AddHost(ctx, k, a)
		step("add a again", changed, err, false, []route.Host{a})
		changed, err = db.AddHost(ctx, k, b)
		step("add b", changed, err, true, []route.Host{a, b})
		changed, err = db.DelHost(ctx, k, c)
		step("delete absent c", changed, err, false, []route.Host{a, b})
		changed, err = db.SetHosts(ctx, k, []route.Host{b, a, b})
		step("set same hosts", changed, err, false, []route.Host{a, b})
		changed, err = db.SetHosts(ctx, k, []route.Host{c, b})
		step("set b, c", changed, err, true, []route.Host{c, b})
		changed, err = db.DelHost(ctx, k, b)
		step("delete b", changed, err, true, []route.Host{c})
		changed, err = db.SetHosts(ctx, k, nil)
		step("set no hosts", changed, err, true, nil)
		changed, err = db.DropKey(ctx, k)
		step("drop absent key", changed, err, false, nil)
		changed, err = db.AddHost(ctx, k, a)
		step("add a to the dropped key", changed, err, true, []route.Host{a})
		changed, err = db.DropKey(ctx, k)
		step("drop key", changed, err, true, nil)

		if got := mustRoutes(t, db, other); fmt.Sprint(got) != fmt.Sprint([]route.Host{c}) {
			t.Errorf("the other key's hosts became %v", got)
		}
		if n := countRows(t, db, "RouteData"); n != 1 {
			t.Errorf("%d RouteData rows left, want 1 (the other key's)", n)
		}
	})
}

func TestDelHostRemovesDuplicateRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		// Lars's writers may leave a host twice; reads show it once, a delete removes both.
		if _, err := db.SQL().ExecContext(ctx, "INSERT INTO RouteData (modid, cmdid, serverip, serverport) VALUES (1, 1, 5, 80), (1, 1, 5, 80), (1, 1, 6, 80)"); err != nil {
			t.Fatal(err)
		}
		k := route.Key{Modid: 1, Cmdid: 1}
		if got := mustRoutes(t, db, k); len(got) != 2 {
			t.Fatalf("hosts %v, want two distinct", got)
		}
		if changed, err := db.DelHost(ctx, k, route.FromWire(5, 80)); err != nil || !changed {
			t.Fatalf("DelHost = %v, %v", changed, err)
		}
		if n := countRows(t, db, "RouteData"); n != 1 {
			t.Errorf("%d rows left, want 1", n)
		}
	})
}

func TestVersionNeverMovesBackwards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		k := route.Key{Modid: 1, Cmdid: 1}

		// Many writes within one second still get distinct, increasing versions.
		now := time.Unix(1_700_000_000, 0)
		db.now = func() time.Time { return now }
		var versions []uint64
		for i := range 5 {
			if _, err := db.AddHost(ctx, k, route.FromWire(int32(i), 1)); err != nil {
				t.Fatal(err)
			}
			versions = append(versions, mustStamp(t, db).Version)
		}
		n := uint64(now.Unix())
		if want := []uint64{n, n + 1, n + 2, n + 3, n + 4}; !slices.Equal(versions, want) {
			t.Errorf("versions within one second %v, want %v", versions, want)
		}

		// A stored version in the future (another writer's clock) is not undone.
		future := uint64(time.Now().Unix()) + 1000
		if _, err := db.SQL().ExecContext(ctx, "UPDATE RouteVersion SET version = ? WHERE id = 1", future); err != nil {
			t.Fatal(err)
		}
		db.now = time.Now
		if _, err := db.AddHost(ctx, k, route.FromWire(100, 1)); err != nil {
			t.Fatal(err)
		}
		if got := mustStamp(t, db).Version; got != future+1 {
			t.Errorf("version after a write over the future version %d = %d, want %d", future, got, future+1)
		}

		// A version behind the clock jumps to the clock, as Lars's writers set it.
		if _, err := db.SQL().ExecContext(ctx, "UPDATE RouteVersion SET version = 5 WHERE id = 1"); err != nil {
			t.Fatal(err)
		}
		before := uint64(time.Now().Unix())
		if _, err := db.AddHost(ctx, k, route.FromWire(101, 1)); err != nil {
			t.Fatal(err)
		}
		if got := mustStamp(t, db).Version; got < before || got > uint64(time.Now().Unix()) {
			t.Errorf("version = %d, want the Unix time (%d)", got, before)
		}
	})
}

func TestHighValuesRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		hosts := []route.Host{
			host("0.0.0.0", 0),
			host("127.0.0.1", 1),
			host("127.255.255.255", 80),
			host("128.0.0.0", 443),
			host("192.168.1.1", 65535),
			host("255.255.255.255", 65535),
		}
		keys := []route.Key{{Modid: 1, Cmdid: 1}, {Modid: -1, Cmdid: -1}, {Modid: 0x7fffffff, Cmdid: -0x80000000}}
		for _, k := range keys {
			if _, err := db.SetHosts(ctx, k, hosts); err != nil {
				t.Fatal(err)
			}
		}
		all, err := db.AllRoutes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if fmt.Sprint(all[k]) != fmt.Sprint(hosts) {
				t.Errorf("%v: hosts %v, want %v (sorted by unsigned address)", k, all[k], hosts)
			}
		}
		// The columns hold the unsigned numbers Lars and its tools expect.
		var ip uint64
		if err := db.SQL().QueryRowContext(ctx, "SELECT serverip FROM RouteData WHERE modid = 4294967295 AND serverport = 65535 ORDER BY serverip LIMIT 1").Scan(&ip); err != nil {
			t.Fatal(err)
		}
		if ip != 3232235777 {
			t.Errorf("192.168.1.1 stored as %d, want 3232235777", ip)
		}
		changes := mustChanges(t, db, 0)
		if len(changes) != 3 || changes[1].Key != keys[1] || changes[2].Key != keys[2] {
			t.Errorf("changes %v, want one per key %v", changes, keys)
		}
	})
}

func TestReplaceKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		h := func(i int32) route.Host { return route.FromWire(0x0a000000+i, 80) }
		same, grows, shrinks, dropped, untouched, added := route.Key{Modid: 1, Cmdid: 1}, route.Key{Modid: 1, Cmdid: 2}, route.Key{Modid: 1, Cmdid: 3}, route.Key{Modid: 2, Cmdid: 1}, route.Key{Modid: 3, Cmdid: 1}, route.Key{Modid: -5, Cmdid: 1}
		start := map[route.Key][]route.Host{same: {h(1), h(2)}, grows: {h(1)}, shrinks: {h(1), h(2)}, dropped: {h(3)}, untouched: {h(9)}}
		changed, err := db.ReplaceKeys(ctx, start)
		if err != nil {
			t.Fatal(err)
		}
		if want := []route.Key{same, grows, shrinks, dropped, untouched}; !slices.Equal(changed, want) {
			t.Errorf("first import changed %v, want %v", changed, want)
		}
		before := mustStamp(t, db)
		changed, err = db.ReplaceKeys(ctx, map[route.Key][]route.Host{
			same: {h(2), h(1), h(1)}, grows: {h(1), h(2)}, shrinks: {h(2)}, dropped: nil, added: {h(4)},
		})
		if err != nil {
			t.Fatal(err)
		}
		// Sorted by unsigned modid: -5 (0xfffffffb) comes last.
		if want := []route.Key{grows, shrinks, dropped, added}; !slices.Equal(changed, want) {
			t.Errorf("changed %v, want %v", changed, want)
		}
		after := mustStamp(t, db)
		var rowKeys []route.Key
		for _, c := range mustChanges(t, db, before.LastChange) {
			rowKeys = append(rowKeys, c.Key)
			if c.Version != after.Version {
				t.Errorf("change %+v has version %d, want %d", c, c.Version, after.Version)
			}
		}
		if !slices.Equal(rowKeys, changed) {
			t.Errorf("change rows for %v, want %v", rowKeys, changed)
		}
		all, err := db.AllRoutes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[route.Key][]route.Host{same: {h(1), h(2)}, grows: {h(1), h(2)}, shrinks: {h(2)}, untouched: {h(9)}, added: {h(4)}}
		if fmt.Sprint(all) != fmt.Sprint(want) {
			t.Errorf("routes %v, want %v", all, want)
		}
		// A no-op import writes nothing.
		changed, err = db.ReplaceKeys(ctx, want)
		if err != nil || len(changed) != 0 || mustStamp(t, db) != after {
			t.Errorf("no-op import: changed %v, err %v, stamp %+v -> %+v", changed, err, after, mustStamp(t, db))
		}
		if changed, err := db.ReplaceKeys(ctx, nil); err != nil || len(changed) != 0 {
			t.Errorf("empty import: changed %v, err %v", changed, err)
		}
	})
}

func TestReplaceKeysLarge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		keys, hostsPerKey := 10_000, 10
		if raceEnabled {
			keys = 1_000
		}
		routes := bigRoutes(keys, hostsPerKey, 0)
		start := time.Now()
		changed, err := db.ReplaceKeys(ctx, routes)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ReplaceKeys of %d keys x %d hosts into an empty database: %v", keys, hostsPerKey, time.Since(start))
		if len(changed) != keys || countRows(t, db, "RouteData") != keys*hostsPerKey || countRows(t, db, "RouteChange") != keys {
			t.Fatalf("changed %d keys, %d rows, %d change rows", len(changed), countRows(t, db, "RouteData"), countRows(t, db, "RouteChange"))
		}
		// Replace again with every tenth key changed: one host swapped.
		for k, hosts := range routes {
			if k.Cmdid%10 == 0 {
				hosts[0].Addr = netip.AddrPortFrom(hosts[0].Addr.Addr(), hosts[0].Addr.Port()+1)
			}
		}
		start = time.Now()
		changed, err = db.ReplaceKeys(ctx, routes)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ReplaceKeys of the same %d keys, a tenth changed: %v", keys, time.Since(start))
		if len(changed) != keys/10 {
			t.Errorf("changed %d keys, want %d", len(changed), keys/10)
		}
		start = time.Now()
		all, err := db.AllRoutes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("AllRoutes of %d rows: %v", keys*hostsPerKey, time.Since(start))
		if len(all) != keys {
			t.Errorf("AllRoutes has %d keys", len(all))
		}
		for k, hosts := range routes {
			if !slices.Equal(all[k], route.Normalize(slices.Clone(hosts))) {
				t.Fatalf("%v: %v, want %v", k, all[k], hosts)
			}
		}
	})
}

// bigRoutes returns keys keys (modid 1+i/1000, cmdid i%1000) with hostsPerKey hosts
// each, hosts starting at address 10.0.0.0 + seed.
func bigRoutes(keys, hostsPerKey int, seed int32) map[route.Key][]route.Host {
	routes := make(map[route.Key][]route.Host, keys)
	for i := range keys {
		k := route.Key{Modid: int32(1 + i/1000), Cmdid: int32(i % 1000)}
		hosts := make([]route.Host, hostsPerKey)
		for j := range hosts {
			hosts[j] = route.FromWire(0x0a000000+seed+int32(i*hostsPerKey+j), 8000+int32(j))
		}
		routes[k] = hosts
	}
	return routes
}

func TestConcurrentWritersLoseNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		const handles, writersPerHandle, hostsPerWriter = 2, 2, 15
		k := route.Key{Modid: 9, Cmdid: 9}
		dbs := make([]*DB, handles)
		for i := range dbs {
			dbs[i] = openT(t, dsn) // separate pools, as two processes would have
		}
		ctx := testContext(t)
		var wg sync.WaitGroup
		errs := make(chan error, handles*writersPerHandle*hostsPerWriter)
		var want []route.Host
		for d := range handles {
			for w := range writersPerHandle {
				var mine []route.Host
				for i := range hostsPerWriter {
					mine = append(mine, route.FromWire(int32(d<<16|w<<8|i), 80))
				}
				want = append(want, mine...)
				wg.Go(func() {
					for _, h := range mine {
						if changed, err := dbs[d].AddHost(ctx, k, h); err != nil || !changed {
							errs <- fmt.Errorf("AddHost %v: changed %v, %v", h, changed, err)
						}
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got := mustRoutes(t, dbs[0], k); !slices.Equal(got, route.Normalize(want)) {
			t.Errorf("%d hosts after concurrent adds, want %d: %v", len(got), len(want), got)
		}
		changes := mustChanges(t, dbs[0], 0)
		if len(changes) != len(want) {
			t.Errorf("%d change rows, want %d", len(changes), len(want))
		}
		for i := 1; i < len(changes); i++ {
			if changes[i].Version <= changes[i-1].Version {
				t.Errorf("change %+v after %+v: versions not strictly increasing", changes[i], changes[i-1])
			}
		}
		if s := mustStamp(t, dbs[1]); len(changes) > 0 && s.Version != changes[len(changes)-1].Version {
			t.Errorf("stamp %+v, last change %+v", s, changes[len(changes)-1])
		}
	})
}
