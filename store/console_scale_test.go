package store

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// envConsoleScale=1 runs TestConsoleListsAtScale, which fills each engine with the
// sizes issue 28 names and logs how long each read of a console page takes (never
// asserted: the machine is shared).
const envConsoleScale = "LARS_CONSOLE_SCALE"

// consoleScaleFill fills db in one transaction: 100,000 keys of two hosts, a
// 10,000-host route 1/1 with call status, 1,000,000 RouteHistory rows, 2,000 keys
// with call status only, names for every modid and cmdid.
func consoleScaleFill(t *testing.T, db *DB) {
	t.Helper()
	ctx := testContext(t)
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	mysql := db.Engine() == EngineMySQL
	if mysql {
		if _, err := tx.ExecContext(ctx, "SET SESSION max_recursive_iterations = 2000000"); err != nil {
			t.Fatal(err)
		}
	}
	// insert builds "INSERT INTO into SELECT sel" over seq(i) = 0..n-1 in the
	// engine's syntax.
	insert := func(n int, into, sel string) string {
		with := fmt.Sprintf("WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM seq WHERE i < %d) ", n-1)
		if mysql {
			return "INSERT INTO " + into + " " + with + strings.ReplaceAll(sel, "/", " DIV ")
		}
		return with + "INSERT INTO " + into + " " + sel
	}
	for _, q := range []string{
		insert(100000, "RouteData (modid, cmdid, serverip, serverport)",
			"SELECT 1 + i/100, 1 + i%100, 167772160 + i, p.port FROM seq, (SELECT 8000 AS port UNION ALL SELECT 8001) p WHERE i > 0"),
		insert(10000, "RouteData (modid, cmdid, serverip, serverport)", "SELECT 1, 1, 2886729728 + i, 9000 FROM seq"),
		insert(1000000, "RouteHistory (version, ts, who, op, modid, cmdid, hosts_before, hosts_after)",
			"SELECT 1 + i, 1700000000000 + i*1000, 'filler', 'add host', 1 + (i%100000)/100, 1 + i%100, '10.1.2.3:8000', '10.1.2.3:8000 10.1.2.4:8001' FROM seq"),
		insert(10000, "ServerCallStatus (modid, cmdid, ip, port, caller, succ_cnt, err_cnt, ts, overload)",
			"SELECT 1, 1, 2886729728 + i, 9000, 2130706433, 100 + i%7, i%3, 1700001000 + i%60, CASE WHEN i%100 = 0 THEN '1' ELSE '0' END FROM seq"),
		insert(2000, "ServerCallStatus (modid, cmdid, ip, port, caller, succ_cnt, err_cnt, ts, overload)",
			"SELECT 2000000 + i, 1, 16843009, 80, 2130706433, 1, 0, 1700001000, '0' FROM seq"),
		insert(1000, "ModIDConfig (modid, content)", "SELECT 1 + i, CONCAT('module ', i) FROM seq"),
		insert(100, "CmdIDConfig (cmdid, content)", "SELECT 1 + i, CONCAT('command ', i) FROM seq"),
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestConsoleListsAtScale(t *testing.T) {
	if os.Getenv(envConsoleScale) != "1" {
		t.Skip(envConsoleScale + "=1 runs it (seconds per engine)")
	}
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		start := time.Now()
		consoleScaleFill(t, db)
		t.Logf("filled in %v", time.Since(start).Round(time.Millisecond))
		ctx := testContext(t)
		start = time.Now()
		if err := db.EnsureConsoleIndexes(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("indexes made in %v", time.Since(start).Round(time.Millisecond))
		timed := func(what string, fn func(context.Context) error) {
			start := time.Now()
			if err := fn(ctx); err != nil {
				t.Errorf("%s: %v", what, err)
			}
			t.Logf("%-34s %v", what, time.Since(start).Round(100*time.Microsecond))
		}
		one := int32(1)
		for _, o := range []ServiceOrder{OrderByKey, OrderByName, OrderByHosts, OrderByOverloaded, OrderByErrors, OrderByChanged} {
			for _, off := range []int{0, 101900} {
				timed(fmt.Sprintf("services by %s from %d", o, off), func(ctx context.Context) error {
					keys, total, err := db.ServiceKeys(ctx, ServiceQuery{Order: o, Desc: true, Offset: off, Limit: 100})
					if err == nil && (total != 102000 || len(keys) != 100) {
						err = fmt.Errorf("%d keys of %d, want 100 of 102000", len(keys), total)
					}
					return err
				})
			}
		}
		keys, _, err := db.ServiceKeys(ctx, ServiceQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		big := []route.Key{{Modid: 1, Cmdid: 1}}
		for _, c := range []struct {
			what string
			fn   func(context.Context) error
		}{
			{"hosts of a page of services", func(ctx context.Context) error { _, err := db.Routes(ctx, keys); return err }},
			{"status of a page of services", func(ctx context.Context) error { _, err := db.CallStatusOf(ctx, keys); return err }},
			{"last changes of a page", func(ctx context.Context) error { _, err := db.LastChangesOf(ctx, keys); return err }},
			{"hosts of the big route", func(ctx context.Context) error { _, err := db.Routes(ctx, big); return err }},
			{"status of the big route", func(ctx context.Context) error { _, err := db.CallStatusOf(ctx, big); return err }},
			{"history, newest page", func(ctx context.Context) error {
				_, err := db.History(ctx, HistoryFilter{Limit: 100, MaxHosts: 10})
				return err
			}},
			{"history of modid 1", func(ctx context.Context) error {
				_, err := db.History(ctx, HistoryFilter{Modid: &one, Limit: 100, MaxHosts: 10})
				return err
			}},
			{"history count, position", func(ctx context.Context) error {
				_, _, err := db.HistoryCount(ctx, HistoryFilter{}, 500000)
				return err
			}},
		} {
			timed(c.what, c.fn)
		}
	})
}
