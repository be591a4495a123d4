package store

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

func TestEveryWriteRecordsHistoryInItsTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := WithWho(testContext(t), "tester@box")
		k, other := route.Key{Modid: 9, Cmdid: 1}, route.Key{Modid: 9, Cmdid: 2}
		a, b := host("10.0.0.1", 80), host("200.1.2.3", 65535)
		start := time.Now().Add(-time.Second)
		steps := []struct {
			op    string
			write func() error
		}{
			{"add host", func() error { _, err := db.AddHost(ctx, k, a); return err }},
			{"add host", func() error { _, err := db.AddHost(ctx, k, a); return err }}, // no change: no row
			{"set hosts", func() error { _, err := db.SetHosts(ctx, k, []route.Host{b, a}); return err }},
			{"delete host", func() error { _, err := db.DelHost(ctx, k, a); return err }},
			{"replace keys", func() error {
				_, err := db.ReplaceKeys(ctx, map[route.Key][]route.Host{k: {a}, other: {b}})
				return err
			}},
			{"drop key", func() error { _, err := db.DropKey(testContext(t), other); return err }},
		}
		for _, s := range steps {
			if err := s.write(); err != nil {
				t.Fatalf("%s: %v", s.op, err)
			}
		}
		got, err := db.History(testContext(t), HistoryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for i := len(got) - 1; i >= 0; i-- {
			e := got[i]
			lines = append(lines, fmt.Sprintf("%s|%s|%d/%d|%s|%s", e.Who, e.Op, e.Key.Modid, e.Key.Cmdid, route.FormatHostList(e.Before), route.FormatHostList(e.After)))
			if e.Time.Before(start) || e.Time.After(time.Now().Add(time.Second)) {
				t.Errorf("row %d time %v, not now", e.ID, e.Time)
			}
		}
		want := []string{
			"tester@box|add host|9/1||10.0.0.1:80",
			"tester@box|set hosts|9/1|10.0.0.1:80|10.0.0.1:80 200.1.2.3:65535",
			"tester@box|delete host|9/1|10.0.0.1:80 200.1.2.3:65535|200.1.2.3:65535",
			"tester@box|replace keys|9/1|200.1.2.3:65535|10.0.0.1:80",
			"tester@box|replace keys|9/2||200.1.2.3:65535",
			UnknownWho + "|drop key|9/2|200.1.2.3:65535|",
		}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Errorf("history, oldest first:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
		// Each row carries the version its write set, the same as its RouteChange row.
		changes := mustChanges(t, db, 0)
		if len(changes) != len(got) {
			t.Fatalf("%d RouteChange rows, %d RouteHistory rows", len(changes), len(got))
		}
		for i, c := range changes {
			if e := got[len(got)-1-i]; e.Version != c.Version || e.Key != c.Key {
				t.Errorf("history row %d (%v v%d) does not match change row %d (%v v%d)", e.ID, e.Key, e.Version, c.ID, c.Key, c.Version)
			}
		}

		modid, cmdid := int32(9), int32(2)
		only, err := db.History(testContext(t), HistoryFilter{Modid: &modid, Cmdid: &cmdid})
		if err != nil || len(only) != 2 || only[0].Op != "drop key" {
			t.Errorf("history of 9/2: %+v, %v", only, err)
		}
		last, err := db.LastChanges(testContext(t))
		if err != nil || len(last) != 2 || !last[other].Equal(got[0].Time) || !last[k].Equal(got[2].Time) {
			t.Errorf("LastChanges %v, %v; want %v at %v, %v at %v", last, err, other, got[0].Time, k, got[2].Time)
		}
		page, err := db.History(testContext(t), HistoryFilter{Limit: 2, BeforeID: got[0].ID})
		if err != nil || len(page) != 2 || page[0].ID != got[1].ID || page[1].ID != got[2].ID {
			t.Errorf("page before %d: %+v, %v", got[0].ID, page, err)
		}
	})
}

func TestFailedHistoryInsertRollsBackTheWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		k := route.Key{Modid: 3, Cmdid: 3}
		if _, err := db.SQL().ExecContext(ctx, "DROP TABLE RouteHistory"); err != nil {
			t.Fatal(err)
		}
		before := mustStamp(t, db)
		if _, err := db.AddHost(ctx, k, host("10.0.0.1", 1)); err == nil || !strings.Contains(err.Error(), "RouteHistory") {
			t.Fatalf("AddHost without RouteHistory: %v, want an error naming it", err)
		}
		if got := mustRoutes(t, db, k); len(got) != 0 {
			t.Errorf("hosts %v after a failed write", got)
		}
		if s := mustStamp(t, db); s != before {
			t.Errorf("stamp %+v -> %+v after a failed write", before, s)
		}
		db.Close()
		db = openT(t, dsn) // Open creates the table again
		if _, err := db.AddHost(ctx, k, host("10.0.0.1", 1)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestWhoFrom(t *testing.T) {
	ctx := testContext(t)
	long := strings.Repeat("é", MaxWhoLen)
	for _, c := range []struct{ in, want string }{
		{"", UnknownWho}, {"  ", UnknownWho}, {" larsctl bob@h ", "larsctl bob@h"},
		{long, strings.Repeat("é", MaxWhoLen/2)},
	} {
		if got := WhoFrom(WithWho(ctx, c.in)); got != c.want {
			t.Errorf("WhoFrom(WithWho(%q)) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := WhoFrom(ctx); got != UnknownWho {
		t.Errorf("WhoFrom(no who) = %q", got)
	}
}

func TestServiceNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		// A Lars-written duplicate: the lowest id is the name.
		if _, err := db.SQL().ExecContext(ctx, "INSERT INTO ModIDConfig (modid, content) VALUES (1, 'first'), (1, 'second')"); err != nil {
			t.Fatal(err)
		}
		if err := db.SetCmdName(ctx, 2, "  lookup <b> "); err != nil {
			t.Fatal(err)
		}
		if err := db.SetModName(ctx, 5, "users"); err != nil {
			t.Fatal(err)
		}
		if err := db.SetModName(ctx, 5, "accounts"); err != nil {
			t.Fatal(err)
		}
		n, err := db.ServiceNames(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(n.Mod) != "map[1:first 5:accounts]" || fmt.Sprint(n.Cmd) != "map[2:lookup <b>]" {
			t.Errorf("names %v %v", n.Mod, n.Cmd)
		}
		if countRows(t, db, "ModIDConfig") != 3 {
			t.Errorf("ModIDConfig has %d rows, want 3 (an edit updates its row)", countRows(t, db, "ModIDConfig"))
		}
		if err := db.SetModName(ctx, 5, ""); err != nil {
			t.Fatal(err)
		}
		if err := db.SetModName(ctx, 6, strings.Repeat("x", MaxNameLen+1)); err == nil {
			t.Error("a 256-character name was accepted")
		}
		n, _ = db.ServiceNames(ctx)
		if _, ok := n.Mod[5]; ok || len(n.Mod) != 1 {
			t.Errorf("names after deleting 5: %v", n.Mod)
		}
	})
}

func TestParseHistoryHosts(t *testing.T) {
	// Rows written before hosts had a text form of their own: "IPv4:PORT" with any port
	// of the int unsigned column; and rows of today, weights, zones and IPv6 included.
	for text, want := range map[string][]route.Host{
		"":                                nil,
		"0.0.0.0:0 255.255.255.255:65535": {host("0.0.0.0", 0), host("255.255.255.255", 65535)},
		"0.0.0.1:4294967295":              {route.FromWire(1, -1)},
		"10.0.0.1:80;weight=200;zone=z-1": {{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Weight: 200, Zone: "z-1"}},
		"[2001:db8::1]:80\t10.0.0.1:80":   {{Addr: netip.MustParseAddrPort("[2001:db8::1]:80")}, host("10.0.0.1", 80)},
	} {
		got, err := parseHistoryHosts(text)
		if err != nil || !route.Equal(got, want) {
			t.Errorf("parseHistoryHosts(%q) = %v, %v; want %v", text, got, err, want)
		}
	}
	hosts := []route.Host{host("1.0.0.1", 1), {Addr: netip.MustParseAddrPort("[::1]:80"), Weight: 5, Zone: "z"}}
	if got, err := parseHistoryHosts(route.FormatHostList(hosts)); err != nil || !route.Equal(got, hosts) {
		t.Errorf("round trip %v -> %q -> %v, %v", hosts, route.FormatHostList(hosts), got, err)
	}
	for _, bad := range []string{"1.2.3.4", "1.2.3:4", "::1:80", "1.2.3.4:x", "1.2.3.4:4294967296", "1.2.3.4:80;weight=0", "[::1]:0;zone=z"} {
		if _, err := parseHistoryHosts(bad); err == nil {
			t.Errorf("parseHistoryHosts(%q) succeeded", bad)
		}
	}
}

func FuzzParseHistoryHosts(f *testing.F) {
	for _, s := range []string{"", "1.2.3.4:80", "1.2.3.4:80 5.6.7.8:0", "x", "1.2.3.4:", ":80", "[::1]:80;weight=3;zone=a", "1.2.3.4:70000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hosts, err := parseHistoryHosts(s)
		if err != nil {
			return
		}
		again, err := parseHistoryHosts(route.FormatHostList(hosts))
		if err != nil || !route.Equal(again, hosts) {
			t.Errorf("%q: %v does not round-trip: %v, %v", s, hosts, again, err)
		}
	})
}
