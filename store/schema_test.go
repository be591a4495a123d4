package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

var larsTables = []string{"RouteData", "RouteVersion", "RouteChange", "ServerCallStatus", "ModIDConfig", "CmdIDConfig"}

// indexOnKey reports whether RouteData has an index starting with modid.
func indexOnKey(t *testing.T, db *DB) bool {
	t.Helper()
	query := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'RouteData' AND name = '` + routeDataIndex + `'`
	if db.Engine() == EngineMySQL {
		query = `SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
			AND TABLE_NAME = 'RouteData' AND SEQ_IN_INDEX = 1 AND COLUMN_NAME = 'modid'`
	}
	var n int
	if err := db.SQL().QueryRowContext(testContext(t), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestOpenCreatesSchemaIdempotently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		for round := range 2 { // the second Open finds everything in place
			db := openT(t, dsn)
			for _, table := range larsTables {
				countRows(t, db, table) // fails if the table is missing
			}
			if !indexOnKey(t, db) {
				t.Errorf("round %d: no RouteData (modid, cmdid) index", round)
			}
			var id, version int
			if err := db.SQL().QueryRowContext(testContext(t), "SELECT id, version FROM RouteVersion").Scan(&id, &version); err != nil {
				t.Fatal(err)
			}
			if id != 1 || version != 0 || countRows(t, db, "RouteVersion") != 1 {
				t.Errorf("round %d: RouteVersion row (%d, %d), %d rows; want (1, 0), 1 row", round, id, version, countRows(t, db, "RouteVersion"))
			}
			if s := mustStamp(t, db); s != (Stamp{}) {
				t.Errorf("round %d: Stamp of an empty database = %+v", round, s)
			}
			if got := db.Engine(); (got == EngineSQLite) != (dsn[:7] == "sqlite:") {
				t.Errorf("Engine() = %q for %s", got, Redact(dsn))
			}
			if err := db.Ping(testContext(t)); err != nil {
				t.Error(err)
			}
			db.Close()
		}
	})
}

func TestOpenConcurrentlyOnNewDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				db, err := Open(testContext(t), dsn)
				if err == nil {
					db.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if n := countRows(t, openT(t, dsn), "RouteVersion"); n != 1 {
			t.Errorf("%d RouteVersion rows, want 1", n)
		}
	})
}

// larsSchema is Lars's own lars_dns.sql (MySQL) and its SQLite transcription: what an
// existing Lars database looks like. It has no RouteChange table and no index on
// RouteData (modid, cmdid).
func larsSchema(engine Engine) []string {
	if engine == EngineMySQL {
		return []string{
			"CREATE TABLE `RouteData` (`id` int(10) unsigned NOT NULL AUTO_INCREMENT, `modid` int(10) unsigned NOT NULL, " +
				"`cmdid` int(10) unsigned NOT NULL, `serverip` int(10) unsigned NOT NULL, `serverport` int(10) unsigned NOT NULL, " +
				"PRIMARY KEY (`id`)) ENGINE=InnoDB AUTO_INCREMENT=116064 DEFAULT CHARSET=utf8",
			"CREATE TABLE RouteVersion (id int(10) unsigned NOT NULL AUTO_INCREMENT, version int(10) unsigned NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB",
			"CREATE TABLE ServerCallStatus (modid int(11) NOT NULL, cmdid int(11) NOT NULL, ip int(11) unsigned NOT NULL, " +
				"port int(11) unsigned NOT NULL, caller int(11) unsigned NOT NULL, succ_cnt int(11) NOT NULL, err_cnt int(11) NOT NULL, " +
				"ts bigint(20) unsigned NOT NULL, overload char(1) NOT NULL, PRIMARY KEY (modid,cmdid,ip,port,caller), " +
				"KEY mlb_index (modid,cmdid,ip,port,caller)) ENGINE=InnoDB DEFAULT CHARSET=utf8",
		}
	}
	return []string{
		"CREATE TABLE RouteData (id INTEGER PRIMARY KEY AUTOINCREMENT, modid int unsigned NOT NULL, cmdid int unsigned NOT NULL, serverip int unsigned NOT NULL, serverport int unsigned NOT NULL)",
		"CREATE TABLE RouteVersion (id INTEGER PRIMARY KEY AUTOINCREMENT, version int unsigned NOT NULL)",
	}
}

func TestOpenExistingLarsDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		engine := EngineMySQL
		if dsn[:7] == "sqlite:" {
			engine = EngineSQLite
		}
		raw := rawOpenT(t, dsn)
		ctx := testContext(t)
		stmts := append(larsSchema(engine),
			"INSERT INTO RouteVersion (version) VALUES (1500000000)",
			// 192.168.1.1:8080 and 10.0.0.1:80 for 1/1, 127.0.0.1:9000 for 2/3.
			"INSERT INTO RouteData (modid, cmdid, serverip, serverport) VALUES (1, 1, 3232235777, 8080), (1, 1, 167772161, 80), (2, 3, 2130706433, 9000)")
		for _, stmt := range stmts {
			if _, err := raw.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		db := openT(t, dsn)
		if !indexOnKey(t, db) {
			t.Error("Open did not add the RouteData (modid, cmdid) index")
		}
		routes, err := db.AllRoutes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[route.Key][]route.Host{
			{Modid: 1, Cmdid: 1}: {host("10.0.0.1", 80), host("192.168.1.1", 8080)},
			{Modid: 2, Cmdid: 3}: {host("127.0.0.1", 9000)},
		}
		if fmt.Sprint(routes) != fmt.Sprint(want) {
			t.Errorf("AllRoutes = %v, want %v", routes, want)
		}
		if s := mustStamp(t, db); s != (Stamp{Version: 1500000000}) {
			t.Errorf("Stamp = %+v, want version 1500000000, no change", s)
		}
		if changed, err := db.AddHost(ctx, route.Key{Modid: 2, Cmdid: 3}, host("127.0.0.2", 9000)); err != nil || !changed {
			t.Fatalf("AddHost = %v, %v", changed, err)
		}
		if s := mustStamp(t, db); s.Version <= 1500000000 || s.LastChange == 0 {
			t.Errorf("after a write Stamp = %+v, want a newer version and a change", s)
		}
	})
}

func TestMySQLOutageAndRecovery(t *testing.T) {
	storetest.RequireOutage(t)
	dsn, ok := storetest.MySQLDSN(t)
	if !ok {
		t.Skip(storetest.EnvMySQLDSN + " not set: no MariaDB/MySQL server to stop")
	}
	db := openT(t, dsn)
	ctx := testContext(t)
	k := route.Key{Modid: 1, Cmdid: 1}
	if _, err := db.AddHost(ctx, k, route.FromWire(1, 1)); err != nil {
		t.Fatal(err)
	}
	storetest.StopMySQL(t)
	if _, err := db.Stamp(ctx); err == nil {
		t.Error("Stamp succeeded with the server stopped")
	}
	if _, err := db.AddHost(ctx, k, route.FromWire(2, 1)); err == nil {
		t.Error("AddHost succeeded with the server stopped")
	}
	storetest.StartMySQL(t)
	// The pool replaces its dead connections by itself.
	if _, err := db.AddHost(ctx, k, route.FromWire(2, 1)); err != nil {
		t.Fatalf("AddHost after the restart: %v", err)
	}
	if got := mustRoutes(t, db, k); len(got) != 2 {
		t.Errorf("hosts after the restart %v, want 2", got)
	}
}

func TestOpenCompleteDatabaseReadOnly(t *testing.T) {
	dsn, ok := storetest.MySQLDSN(t)
	if !ok {
		t.Skip(storetest.EnvMySQLDSN + " not set: no MariaDB/MySQL server")
	}
	ctx := testContext(t)
	owner := openT(t, dsn)
	if _, err := owner.AddHost(ctx, route.Key{Modid: 1, Cmdid: 1}, route.FromWire(1, 1)); err != nil {
		t.Fatal(err)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	// A user that may only read the database, as a route service may run.
	reader := "lars_ro_" + cfg.DBName[len(cfg.DBName)-8:]
	if _, err := owner.SQL().ExecContext(ctx, "CREATE USER '"+reader+"'@'%' IDENTIFIED BY 'ro'"); err != nil {
		t.Skipf("cannot create a read-only user on the test server: %v", err)
	}
	t.Cleanup(func() { owner.SQL().ExecContext(context.Background(), "DROP USER '"+reader+"'@'%'") })
	if _, err := owner.SQL().ExecContext(ctx, "GRANT SELECT ON `"+cfg.DBName+"`.* TO '"+reader+"'@'%'"); err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Passwd = reader, "ro"
	db := openT(t, cfg.FormatDSN())
	if got := mustRoutes(t, db, route.Key{Modid: 1, Cmdid: 1}); len(got) != 1 {
		t.Errorf("reader sees %v", got)
	}
	if _, err := db.AddHost(ctx, route.Key{Modid: 1, Cmdid: 1}, route.FromWire(2, 1)); err == nil {
		t.Error("a read-only user could write")
	}
}
