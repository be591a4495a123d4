package store

import (
	"slices"
	"testing"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// consoleSeed writes keys 1/1 (3 hosts, one overloaded, errors), 2/1 (2 hosts), 1/2
// (1 host, written last) and 5/5 (call status only), and names modid 1 "beta" and
// modid 2 "alpha".
func consoleSeed(t *testing.T, db *DB) {
	t.Helper()
	ctx := testContext(t)
	for _, w := range []struct {
		k     route.Key
		hosts []route.Host
	}{
		{route.Key{Modid: 1, Cmdid: 1}, []route.Host{host("10.0.0.1", 80), host("10.0.0.2", 80), host("10.0.0.3", 80)}},
		{route.Key{Modid: 2, Cmdid: 1}, []route.Host{host("10.0.1.1", 80), host("10.0.1.2", 80)}},
		{route.Key{Modid: 1, Cmdid: 2}, []route.Host{host("10.0.2.1", 80)}},
	} {
		if _, err := db.SetHosts(ctx, w.k, w.hosts); err != nil {
			t.Fatal(err)
		}
	}
	caller := int32(0x7f000001)
	if err := db.UpsertCallStatus(ctx, []CallStatus{
		{Key: route.Key{Modid: 1, Cmdid: 1}, Host: host("10.0.0.1", 80), Caller: caller, Succ: 50, Err: 50, TS: 100, Overload: true},
		{Key: route.Key{Modid: 1, Cmdid: 1}, Host: host("10.0.0.9", 80), Caller: caller, Succ: 1, Err: 0, TS: 90, Overload: true}, // not in the route
		{Key: route.Key{Modid: 5, Cmdid: 5}, Host: host("1.1.1.1", 80), Caller: caller, Succ: 1, Err: 0, TS: 100},
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetModName(ctx, 1, "beta"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetModName(ctx, 2, "alpha"); err != nil {
		t.Fatal(err)
	}
}

func TestServiceKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		consoleSeed(t, db)
		if err := db.EnsureConsoleIndexes(testContext(t)); err != nil {
			t.Fatal(err)
		}
		if err := db.EnsureConsoleIndexes(testContext(t)); err != nil {
			t.Fatalf("second run: %v", err)
		}
		k11, k12, k21, k55 := route.Key{Modid: 1, Cmdid: 1}, route.Key{Modid: 1, Cmdid: 2}, route.Key{Modid: 2, Cmdid: 1}, route.Key{Modid: 5, Cmdid: 5}
		one := int32(1)
		for _, c := range []struct {
			name      string
			q         ServiceQuery
			want      []route.Key
			wantTotal int
		}{
			{"key", ServiceQuery{Limit: 10}, []route.Key{k11, k12, k21, k55}, 4},
			{"key desc", ServiceQuery{Desc: true, Limit: 10}, []route.Key{k55, k21, k12, k11}, 4},
			{"key page 2", ServiceQuery{Offset: 2, Limit: 1}, []route.Key{k21}, 4},
			{"modid 1", ServiceQuery{Modid: &one, Offset: 1, Limit: 5}, []route.Key{k12}, 2},
			{"hosts desc", ServiceQuery{Order: OrderByHosts, Desc: true, Limit: 10}, []route.Key{k11, k21, k12, k55}, 4},
			{"hosts", ServiceQuery{Order: OrderByHosts, Limit: 10}, []route.Key{k55, k12, k21, k11}, 4},
			{"errors desc", ServiceQuery{Order: OrderByErrors, Desc: true, Limit: 10}, []route.Key{k11, k12, k21, k55}, 4},
			{"overloaded desc", ServiceQuery{Order: OrderByOverloaded, Desc: true, Limit: 2}, []route.Key{k11, k12}, 4},
			{"changed desc", ServiceQuery{Order: OrderByChanged, Desc: true, Limit: 10}, []route.Key{k12, k21, k11, k55}, 4},
			{"name", ServiceQuery{Order: OrderByName, Limit: 10}, []route.Key{k55, k21, k11, k12}, 4},
		} {
			keys, total, err := db.ServiceKeys(testContext(t), c.q)
			if err != nil || !slices.Equal(keys, c.want) || total != c.wantTotal {
				t.Errorf("%s: %v of %d, %v; want %v of %d", c.name, keys, total, err, c.want, c.wantTotal)
			}
		}
		if _, _, err := db.ServiceKeys(testContext(t), ServiceQuery{Order: "bogus", Limit: 1}); err == nil {
			t.Error("unknown order accepted")
		}
		if n, err := db.HostRows(testContext(t), &one); n != 4 || err != nil {
			t.Errorf("HostRows(1) = %d, %v; want 4", n, err)
		}

		st, err := db.CallStatusOf(testContext(t), []route.Key{k11, k21, k11})
		if err != nil || len(st) != 2 || st[0].Key != k11 || st[0].TS != 100 {
			t.Errorf("CallStatusOf = %+v, %v", st, err)
		}
		last, err := db.LastChangesOf(testContext(t), []route.Key{k11, k12, {Modid: 9, Cmdid: 9}})
		if err != nil || len(last) != 2 || last[k11].IsZero() || last[k12].Before(last[k11]) {
			t.Errorf("LastChangesOf = %v, %v", last, err)
		}
		names, err := db.ServiceNamesOf(testContext(t), []route.Key{k21})
		if err != nil || len(names.Mod) != 1 || names.Mod[2] != "alpha" {
			t.Errorf("ServiceNamesOf = %+v, %v", names, err)
		}
		page, total, err := db.NamePage(testContext(t), false, 1, 5)
		if err != nil || total != 2 || len(page) != 1 || page[0] != (NameRow{ID: 2, Name: "alpha"}) {
			t.Errorf("NamePage = %+v of %d, %v", page, total, err)
		}
	})
}

func TestHistoryPagesAndCutHosts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		k := route.Key{Modid: 3, Cmdid: 3}
		var hosts []route.Host
		for i := range 30 {
			hosts = append(hosts, route.FromWire(int32(10<<24+i), 8080))
		}
		for i := range 5 {
			if _, err := db.SetHosts(ctx, k, hosts[:26+i]); err != nil {
				t.Fatal(err)
			}
		}
		all, err := db.History(ctx, HistoryFilter{})
		if err != nil || len(all) != 5 || len(all[0].After) != 30 || all[0].AfterCount != 30 || all[0].BeforeCount != 29 {
			t.Fatalf("History: %d rows, %v", len(all), err)
		}
		cut, err := db.History(ctx, HistoryFilter{MaxHosts: 10, Limit: 2})
		if err != nil || len(cut) != 2 || cut[0].ID != all[0].ID || !slices.Equal(cut[0].After, hosts[:10]) ||
			cut[0].AfterCount != 30 || cut[0].BeforeCount != 29 || len(cut[0].Before) != 10 {
			t.Errorf("History cut to 10 hosts: %+v, %v", cut, err)
		}
		newer, err := db.History(ctx, HistoryFilter{AfterID: all[4].ID, Limit: 2})
		if err != nil || len(newer) != 2 || newer[0].ID != all[2].ID || newer[1].ID != all[3].ID {
			t.Errorf("History after the oldest: %+v, %v", newer, err)
		}
		total, n, err := db.HistoryCount(ctx, HistoryFilter{Modid: &k.Modid, Cmdid: &k.Cmdid}, all[3].ID)
		if err != nil || total != 5 || n != 3 {
			t.Errorf("HistoryCount = %d, %d, %v; want 5, 3", total, n, err)
		}
		empty, err := db.History(ctx, HistoryFilter{MaxHosts: 3, Limit: 1, BeforeID: all[4].ID + 1})
		if err != nil || len(empty) != 1 || empty[0].BeforeCount != 0 || len(empty[0].Before) != 0 || empty[0].AfterCount != 26 {
			t.Errorf("the first write, cut: %+v, %v", empty, err)
		}
	})
}

// FuzzParseHostsPrefix: a prefix of any length of a host list parses to at most limit
// hosts, the first ones of the whole list, without a panic.
func FuzzParseHostsPrefix(f *testing.F) {
	f.Add("10.0.0.1:80 10.0.0.2:80 10.0.0.3:80", 7, 2)
	f.Add("10.0.0.1:80", 12, 1)
	f.Add("", 0, 10)
	f.Fuzz(func(t *testing.T, list string, cut, limit int) {
		whole, err := parseHistoryHosts(list)
		if err != nil || limit <= 0 {
			return
		}
		prefix := list[:min(max(cut, 0), len(list))]
		hosts, err := parseHostsPrefix(prefix, len(whole), limit)
		if err != nil {
			return // a prefix may cut inside a host that leaves a bad field
		}
		if len(hosts) > limit || len(hosts) > len(whole) || !slices.Equal(hosts, whole[:len(hosts)]) {
			t.Fatalf("prefix %q of %q, limit %d: %v", prefix, list, limit, hosts)
		}
	})
}
