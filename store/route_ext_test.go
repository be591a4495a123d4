package store

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// xhost parses a host in its text form ("10.0.0.1:80;weight=200;zone=z").
func xhost(t testing.TB, s string) route.Host {
	t.Helper()
	h, err := route.ParseHostText(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// xhosts parses hosts in their text form separated by spaces.
func xhosts(t testing.TB, s string) []route.Host {
	t.Helper()
	hosts, err := route.ParseHostList(s, 0)
	if err != nil {
		t.Fatal(err)
	}
	return route.Normalize(hosts)
}

// routeData returns k's RouteData rows as Lars reads them, "IP:PORT" sorted.
func routeData(t testing.TB, db *DB, k route.Key) []string {
	t.Helper()
	rows, err := db.SQL().QueryContext(testContext(t), "SELECT serverip, serverport FROM RouteData WHERE modid = ? AND cmdid = ?", k.Modid, k.Cmdid)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ip, port int64
		if err := rows.Scan(&ip, &port); err != nil {
			t.Fatal(err)
		}
		out = append(out, route.AddrPortFromWire(int32(uint32(ip)), int32(port)).String())
	}
	slices.Sort(out)
	return out
}

// lastHistory returns the newest RouteHistory row of k as "op|before|after".
func lastHistory(t testing.TB, db *DB, k route.Key) string {
	t.Helper()
	e, err := db.History(testContext(t), HistoryFilter{Modid: &k.Modid, Cmdid: &k.Cmdid, Limit: 1})
	if err != nil || len(e) != 1 {
		t.Fatalf("History: %v, %v", e, err)
	}
	return e[0].Op + "|" + route.FormatHostList(e[0].Before) + "|" + route.FormatHostList(e[0].After)
}

func TestExtHostsThroughEveryWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := WithWho(testContext(t), "test")
		k, other := route.Key{Modid: 7, Cmdid: 1}, route.Key{Modid: 7, Cmdid: 2}
		version := mustStamp(t, db).Version
		step := func(what string, changed bool, err error, want string, history string) {
			t.Helper()
			if err != nil || !changed {
				t.Fatalf("%s: changed %v, %v", what, changed, err)
			}
			if got := route.FormatHostList(mustRoutes(t, db, k)); got != want {
				t.Fatalf("%s: hosts %q, want %q", what, got, want)
			}
			if got := lastHistory(t, db, k); got != history {
				t.Errorf("%s: history %q, want %q", what, got, history)
			}
			s := mustStamp(t, db)
			if s.Version <= version {
				t.Errorf("%s: version %d, not above %d", what, s.Version, version)
			}
			version = s.Version
		}

		changed, err := db.AddHost(ctx, k, xhost(t, "10.0.0.1:80;weight=200;zone=z1"))
		step("add weighted", changed, err, "10.0.0.1:80;weight=200;zone=z1", "add host||10.0.0.1:80;weight=200;zone=z1")
		changed, err = db.AddHost(ctx, k, xhost(t, "[2001:db8::1]:443;weight=5"))
		step("add IPv6", changed, err, "10.0.0.1:80;weight=200;zone=z1 [2001:db8::1]:443;weight=5",
			"add host|10.0.0.1:80;weight=200;zone=z1|10.0.0.1:80;weight=200;zone=z1 [2001:db8::1]:443;weight=5")
		changed, err = db.AddHost(ctx, k, xhost(t, "10.0.0.1:80;weight=300"))
		step("a weight changed", changed, err, "10.0.0.1:80;weight=300 [2001:db8::1]:443;weight=5",
			"add host|10.0.0.1:80;weight=200;zone=z1 [2001:db8::1]:443;weight=5|10.0.0.1:80;weight=300 [2001:db8::1]:443;weight=5")
		if changed, err := db.AddHost(ctx, k, xhost(t, "10.0.0.1:80;weight=300")); err != nil || changed {
			t.Fatalf("the same host again: changed %v, %v", changed, err)
		}
		changed, err = db.SetHosts(ctx, k, xhosts(t, "10.0.0.1:80 10.0.0.2:80;zone=b [2001:db8::2]:80 [2001:db8::1]:443;weight=5;zone=a"))
		step("set", changed, err, "10.0.0.1:80 10.0.0.2:80;zone=b [2001:db8::1]:443;weight=5;zone=a [2001:db8::2]:80",
			"set hosts|10.0.0.1:80;weight=300 [2001:db8::1]:443;weight=5|10.0.0.1:80 10.0.0.2:80;zone=b [2001:db8::1]:443;weight=5;zone=a [2001:db8::2]:80")
		if got, want := routeData(t, db, k), []string{"10.0.0.1:80", "10.0.0.2:80"}; !slices.Equal(got, want) {
			t.Errorf("RouteData %v, want %v (IPv4 hosts, as Lars writes them)", got, want)
		}
		if n, m := countRows(t, db, attrTableName), countRows(t, db, host6TableName); n != 1 || m != 2 {
			t.Errorf("%d %s rows, %d %s rows; want 1 and 2", n, attrTableName, m, host6TableName)
		}
		changed, err = db.DelHost(ctx, k, xhost(t, "10.0.0.2:80"))
		step("delete weighted IPv4", changed, err, "10.0.0.1:80 [2001:db8::1]:443;weight=5;zone=a [2001:db8::2]:80",
			"delete host|10.0.0.1:80 10.0.0.2:80;zone=b [2001:db8::1]:443;weight=5;zone=a [2001:db8::2]:80|10.0.0.1:80 [2001:db8::1]:443;weight=5;zone=a [2001:db8::2]:80")
		changed, err = db.DelHost(ctx, k, xhost(t, "[2001:db8::1]:443"))
		step("delete IPv6", changed, err, "10.0.0.1:80 [2001:db8::2]:80",
			"delete host|10.0.0.1:80 [2001:db8::1]:443;weight=5;zone=a [2001:db8::2]:80|10.0.0.1:80 [2001:db8::2]:80")
		if n, m := countRows(t, db, attrTableName), countRows(t, db, host6TableName); n != 0 || m != 1 {
			t.Errorf("%d %s rows, %d %s rows; want 0 and 1", n, attrTableName, m, host6TableName)
		}
		got, err := db.ReplaceKeys(ctx, map[route.Key][]route.Host{
			k:     xhosts(t, "[2001:db8::2]:80;weight=1"),
			other: xhosts(t, "10.0.0.9:9;weight=9 [::1]:9"),
		})
		if err != nil || !slices.Equal(got, []route.Key{k, other}) {
			t.Fatalf("ReplaceKeys = %v, %v", got, err)
		}
		if got := lastHistory(t, db, k); got != "replace keys|10.0.0.1:80 [2001:db8::2]:80|[2001:db8::2]:80;weight=1" {
			t.Errorf("history after the replace: %q", got)
		}
		all, err := db.AllRoutes(ctx)
		if err != nil || len(all) != 2 || route.FormatHostList(all[k]) != "[2001:db8::2]:80;weight=1" ||
			route.FormatHostList(all[other]) != "10.0.0.9:9;weight=9 [::1]:9" {
			t.Fatalf("AllRoutes = %v, %v", all, err)
		}
		var scanned []string
		if err := db.ScanRoutes(ctx, func(k route.Key, h route.Host) { scanned = append(scanned, k.String()+" "+h.String()) }); err != nil {
			t.Fatal(err)
		}
		slices.Sort(scanned)
		if want := []string{"7/1 [2001:db8::2]:80;weight=1", "7/2 10.0.0.9:9;weight=9", "7/2 [::1]:9"}; !slices.Equal(scanned, want) {
			t.Errorf("ScanRoutes %q, want %q", scanned, want)
		}
		if changed, err := db.DropKey(ctx, other); err != nil || !changed {
			t.Fatalf("DropKey = %v, %v", changed, err)
		}
		if got := mustRoutes(t, db, other); len(got) != 0 || len(routeData(t, db, other)) != 0 {
			t.Errorf("hosts after the drop: %v", got)
		}
		if n, m := countRows(t, db, attrTableName), countRows(t, db, host6TableName); n != 0 || m != 1 {
			t.Errorf("after the drop %d %s rows, %d %s rows; want 0 and 1", n, attrTableName, m, host6TableName)
		}
		changes := mustChanges(t, db, 0)
		if len(changes) == 0 || changes[len(changes)-1].Key != other {
			t.Errorf("RouteChange rows %v: want the drop of %v last", changes, other)
		}
	})
}

func TestExtHostsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		k := route.Key{Modid: 1, Cmdid: 1}
		for _, h := range []route.Host{
			{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Weight: route.MaxWeight + 1},
			{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Zone: "a zone"},
			{Addr: netip.MustParseAddrPort("[::ffff:10.0.0.1]:80")},
			{Addr: netip.MustParseAddrPort("[2001:db8::1]:0")},
			{},
		} {
			if _, err := db.AddHost(ctx, k, h); err == nil {
				t.Errorf("AddHost(%v) succeeded", h)
			}
		}
		if n := countRows(t, db, "RouteData") + countRows(t, db, attrTableName) + countRows(t, db, host6TableName); n != 0 {
			t.Errorf("%d rows written", n)
		}
	})
}

func TestExtOrphanAttributes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		k := route.Key{Modid: 3, Cmdid: 3}
		if _, err := db.SetHosts(ctx, k, xhosts(t, "10.0.0.1:80;weight=7 10.0.0.2:80;zone=z")); err != nil {
			t.Fatal(err)
		}
		// A Lars writer deletes 10.0.0.1:80 with plain SQL, and another writer leaves an
		// attribute row for a host RouteData never had.
		if _, err := db.SQL().ExecContext(ctx, "DELETE FROM RouteData WHERE modid = 3 AND cmdid = 3 AND serverip = ?", uint32(wireIP("10.0.0.1"))); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, "INSERT INTO RouteHostAttr (modid, cmdid, serverip, serverport, weight, zone) VALUES (3, 3, ?, 81, 9, 'x')", uint32(wireIP("10.0.0.3"))); err != nil {
			t.Fatal(err)
		}
		want := "10.0.0.2:80;zone=z"
		if got := route.FormatHostList(mustRoutes(t, db, k)); got != want {
			t.Errorf("Routes %q, want %q: orphans ignored", got, want)
		}
		all, err := db.AllRoutes(ctx)
		if err != nil || route.FormatHostList(all[k]) != want {
			t.Errorf("AllRoutes %v, %v; want %q", all, err, want)
		}
		if n := countRows(t, db, attrTableName); n != 3 {
			t.Fatalf("%d attribute rows, want 3", n)
		}
		// The next write of the key deletes them.
		if _, err := db.AddHost(ctx, k, xhost(t, "10.0.0.4:80")); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, attrTableName); n != 1 {
			t.Errorf("%d attribute rows after a write, want 1 (10.0.0.2:80's)", n)
		}
		// Adding the deleted host back gives it no stale weight.
		if _, err := db.AddHost(ctx, k, xhost(t, "10.0.0.1:80")); err != nil {
			t.Fatal(err)
		}
		if got, want := route.FormatHostList(mustRoutes(t, db, k)), "10.0.0.1:80 10.0.0.2:80;zone=z 10.0.0.4:80"; got != want {
			t.Errorf("Routes %q, want %q", got, want)
		}
	})
}

func TestExtLeases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		if err := db.EnsureLeases(ctx); err != nil {
			t.Fatal(err)
		}
		k := route.Key{Modid: 4, Cmdid: 1}
		h := host("10.0.0.1", 80)
		if r, err := db.Register(ctx, k, h, "agent", time.Hour); err != nil || r != Registered {
			t.Fatalf("Register = %v, %v", r, err)
		}
		// An operator gives the registered instance a weight: it stays registered.
		if _, err := db.AddHost(ctx, k, xhost(t, "10.0.0.1:80;weight=50")); err != nil {
			t.Fatal(err)
		}
		if r, err := db.Register(ctx, k, h, "agent", time.Hour); err != nil || r != Renewed {
			t.Fatalf("Register again = %v, %v; want Renewed", r, err)
		}
		if got := route.FormatHostList(mustRoutes(t, db, k)); got != "10.0.0.1:80;weight=50" {
			t.Errorf("Routes %q", got)
		}
		if gone, err := db.Deregister(ctx, k, h, "agent"); err != nil || !gone {
			t.Fatalf("Deregister = %v, %v", gone, err)
		}
		if got := mustRoutes(t, db, k); len(got) != 0 || countRows(t, db, attrTableName) != 0 {
			t.Errorf("after the deregistration: %v, %d attribute rows", got, countRows(t, db, attrTableName))
		}
		if _, err := db.Register(ctx, k, route.Host{Addr: netip.MustParseAddrPort("[::1]:80")}, "agent", time.Hour); err == nil {
			t.Error("an IPv6 instance registered")
		}
	})
}

func TestExtOnLarsDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		engine := EngineMySQL
		if strings.HasPrefix(dsn, "sqlite:") {
			engine = EngineSQLite
		}
		raw := rawOpenT(t, dsn)
		ctx := testContext(t)
		for _, stmt := range append(larsSchema(engine), "INSERT INTO RouteVersion (version) VALUES (7)",
			"INSERT INTO RouteData (modid, cmdid, serverip, serverport) VALUES (1, 1, 167772161, 80)") {
			if _, err := raw.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		db := openT(t, dsn)
		for _, table := range []string{attrTableName, host6TableName} {
			countRows(t, db, table) // fails if Open did not create it
		}
		k := route.Key{Modid: 1, Cmdid: 1}
		if _, err := db.SetHosts(ctx, k, xhosts(t, "10.0.0.1:80;weight=3 10.0.0.2:81 [2001:db8::5]:80;zone=eu")); err != nil {
			t.Fatal(err)
		}
		if got, want := route.FormatHostList(mustRoutes(t, db, k)), "10.0.0.1:80;weight=3 10.0.0.2:81 [2001:db8::5]:80;zone=eu"; got != want {
			t.Errorf("Routes %q, want %q", got, want)
		}
		// What Lars's lars_dns reads: the IPv4 hosts, version bumped.
		if got, want := routeData(t, db, k), []string{"10.0.0.1:80", "10.0.0.2:81"}; !slices.Equal(got, want) {
			t.Errorf("RouteData %v, want %v", got, want)
		}
		var version int64
		if err := raw.QueryRowContext(context.Background(), "SELECT version FROM RouteVersion WHERE id = 1").Scan(&version); err != nil || version <= 7 {
			t.Errorf("RouteVersion %d, %v; want above 7", version, err)
		}
	})
}

// TestExtReadsWithoutOurTables reads a database whose tables of ours are missing (a
// read-only user on Lars's database): Lars's routes alone.
func TestExtReadsWithoutOurTables(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		k := route.Key{Modid: 1, Cmdid: 1}
		if _, err := db.SetHosts(ctx, k, xhosts(t, "10.0.0.1:80;weight=3 [::1]:80")); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{attrTableName, host6TableName} {
			if _, err := db.SQL().ExecContext(ctx, "DROP TABLE "+table); err != nil {
				t.Fatal(err)
			}
		}
		if got := route.FormatHostList(mustRoutes(t, db, k)); got != "10.0.0.1:80" {
			t.Errorf("Routes %q", got)
		}
		all, err := db.AllRoutes(ctx)
		if err != nil || route.FormatHostList(all[k]) != "10.0.0.1:80" {
			t.Errorf("AllRoutes %v, %v", all, err)
		}
		if _, err := db.AddHost(ctx, k, host("10.0.0.2", 80)); err != nil {
			t.Errorf("a plain write: %v", err)
		}
		if _, err := db.AddHost(ctx, k, xhost(t, "10.0.0.3:80;weight=2")); err == nil {
			t.Error("a weight written without its table")
		}
	})
}

func TestExtConsoleLists(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		v4, v6, mixed := route.Key{Modid: 1, Cmdid: 1}, route.Key{Modid: 1, Cmdid: 2}, route.Key{Modid: 2, Cmdid: 1}
		for k, text := range map[route.Key]string{
			v4:    "10.0.0.1:80 10.0.0.2:80",
			v6:    "[2001:db8::1]:80 [2001:db8::2]:80 [2001:db8::3]:80",
			mixed: "10.0.0.1:80;weight=5 [2001:db8::1]:80",
		} {
			if _, err := db.SetHosts(ctx, k, xhosts(t, text)); err != nil {
				t.Fatal(err)
			}
		}
		keys, total, err := db.ServiceKeys(ctx, ServiceQuery{Order: OrderByHosts, Desc: true, Limit: 10})
		if err != nil || total != 3 || !slices.Equal(keys, []route.Key{v6, v4, mixed}) {
			t.Errorf("ServiceKeys by hosts = %v, %d, %v; want %v, 3", keys, total, err, []route.Key{v6, v4, mixed})
		}
		one := int32(1)
		keys, total, err = db.ServiceKeys(ctx, ServiceQuery{Modid: &one, Limit: 10})
		if err != nil || total != 2 || !slices.Equal(keys, []route.Key{v4, v6}) {
			t.Errorf("ServiceKeys of modid 1 = %v, %d, %v", keys, total, err)
		}
		if n, err := db.HostRows(ctx, nil); err != nil || n != 7 {
			t.Errorf("HostRows = %d, %v; want 7", n, err)
		}
		if n, err := db.HostRows(ctx, &one); err != nil || n != 5 {
			t.Errorf("HostRows(1) = %d, %v; want 5", n, err)
		}
	})
}
