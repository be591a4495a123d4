package chaos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/storetest"
)

// engine is a route store the system runs on, and how a test takes it away.
type engine struct {
	// name is "sqlite" or "mariadb", the subtest's name.
	name string
	// newStore returns the DSN of a fresh, empty store for t; SQLite's file goes in dir.
	newStore func(t *testing.T, dir string) string
	// stop makes the store unavailable to every process using dsn and returns what
	// brings it back; a store still away when t ends is brought back then.
	stop func(t *testing.T, dsn string) (restore func())
	// outage says what stop does, for the tables.
	outage string
}

// sqliteEngine is a SQLite file. Nothing stops an embedded database, and neither chmod
// (ignored for root, and for anyone only checked at open) nor renaming the files moves
// the daemons: they keep the descriptors they opened. What does take it away is another
// process holding its locks: stop locks the whole WAL index, so every read and write of
// lars-dns and lars-reporter waits and then fails (SQLite gives up after about 10 s of
// retries, "locking protocol"); restore releases the locks.
var sqliteEngine = engine{
	name: "sqlite",
	newStore: func(_ *testing.T, dir string) string {
		return "sqlite:" + filepath.Join(dir, "lars.db")
	},
	stop: func(t *testing.T, dsn string) func() {
		return lockWALIndex(t, strings.TrimPrefix(dsn, "sqlite:")+"-shm")
	},
	outage: "every WAL-index lock of the SQLite file held by another process",
}

// mariadbEngine is a fresh database on the MariaDB server LARS_TEST_MYSQL_DSN names;
// stop shuts the server down and restore starts it (LARS_TEST_MYSQL_CTL).
var mariadbEngine = engine{
	name: "mariadb",
	newStore: func(t *testing.T, _ string) string {
		dsn, _ := storetest.MySQLDSN(t)
		return dsn
	},
	stop: func(t *testing.T, _ string) func() {
		// make chaos runs alone (after make test in .ci/run): it may stop the shared
		// server, which storetest allows only under this variable.
		t.Setenv(storetest.EnvMySQLOutage, "1")
		storetest.StopMySQL(t)
		return func() { storetest.StartMySQL(t) }
	},
	outage: "the MariaDB server process stopped (mariadb-admin shutdown)",
}

// eachEngine runs fn as a subtest on SQLite, then on MariaDB when LARS_TEST_MYSQL_DSN
// names a server (the MariaDB subtest skips without one, and fails under CI=true).
func eachEngine(t *testing.T, fn func(t *testing.T, e engine)) {
	t.Helper()
	t.Run(sqliteEngine.name, func(t *testing.T) { fn(t, sqliteEngine) })
	t.Run(mariadbEngine.name, func(t *testing.T) {
		requireMariaDB(t)
		fn(t, mariadbEngine)
	})
}

// requireMariaDB skips t without a MariaDB server to run on, or fails it under CI,
// where .ci/run starts one.
func requireMariaDB(t *testing.T) {
	t.Helper()
	if os.Getenv(storetest.EnvMySQLDSN) != "" {
		return
	}
	const why = storetest.EnvMySQLDSN + " not set: no MariaDB server for the MariaDB variant " +
		"(eval \"$(scripts/mariadb.sh start && scripts/mariadb.sh env)\")"
	if os.Getenv("CI") == "true" {
		t.Fatal(why + "; CI must run it")
	}
	t.Skip(why)
}
