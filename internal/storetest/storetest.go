// Package storetest runs store tests on every engine: a fresh SQLite file, and a fresh
// database on the MariaDB/MySQL server LARS_TEST_MYSQL_DSN names (scripts/mariadb.sh
// starts one: eval "$(scripts/mariadb.sh start && scripts/mariadb.sh env)", or make
// mariadb).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// EnvMySQLDSN names the environment variable holding the DSN of a MariaDB/MySQL server
// the tests may create and drop databases on, in go-sql-driver form
// "user:pass@tcp(host:port)/dbname". Unset, the MariaDB subtests skip; set but
// unreachable, they fail.
const EnvMySQLDSN = "LARS_TEST_MYSQL_DSN"

// setupTimeout bounds connecting to the test server and creating or dropping a
// database.
const setupTimeout = 20 * time.Second

// Each runs fn as a subtest per engine: "sqlite" with a fresh file database in
// t.TempDir(), and "mariadb" with a fresh database on the server EnvMySQLDSN names,
// dropped at cleanup. Without EnvMySQLDSN the mariadb subtest skips, saying why.
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteDSN(t)) })
	t.Run("mariadb", func(t *testing.T) { fn(t, mariadbOrSkip(t)) })
}

// EachB is Each for benchmarks.
func EachB(b *testing.B, fn func(b *testing.B, dsn string)) {
	b.Helper()
	b.Run("sqlite", func(b *testing.B) { fn(b, SQLiteDSN(b)) })
	b.Run("mariadb", func(b *testing.B) { fn(b, mariadbOrSkip(b)) })
}

// mariadbOrSkip returns a fresh MySQL DSN or skips tb when EnvMySQLDSN is unset.
func mariadbOrSkip(tb testing.TB) string {
	tb.Helper()
	dsn, ok := MySQLDSN(tb)
	if !ok {
		tb.Skip(EnvMySQLDSN + " not set: no MariaDB/MySQL server to test against " +
			"(run `make mariadb` and export the lines it prints)")
	}
	return dsn
}

// SQLiteDSN returns "sqlite:PATH" of a database file (not yet created) in a fresh
// temporary directory of tb.
func SQLiteDSN(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "lars.db")
}

// MySQLDSN creates a database with a random name on the server EnvMySQLDSN names and
// returns the DSN of it; the database is dropped when tb ends. It returns false, and
// neither skips nor fails, when EnvMySQLDSN is unset; it fails tb when the variable is
// set but the server cannot be used.
func MySQLDSN(tb testing.TB) (string, bool) {
	tb.Helper()
	raw := os.Getenv(EnvMySQLDSN)
	if raw == "" {
		return "", false
	}
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(raw, "mysql:"))
	if err != nil {
		tb.Fatalf("%s is not a MySQL DSN (user:pass@tcp(host:port)/dbname): %v", EnvMySQLDSN, err)
	}
	server := cfg.Clone()
	server.DBName = ""
	if server.Timeout == 0 {
		server.Timeout = 5 * time.Second
	}
	name := "lars_test_" + randomHex(8)
	if err := execOnServer(server, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("cannot create a test database on the server of %s (%s): %v", EnvMySQLDSN, redactedAddr(cfg), err)
	}
	tb.Cleanup(func() {
		if err := execOnServer(server, "DROP DATABASE IF EXISTS "+name); err != nil {
			tb.Errorf("cannot drop test database %s: %v", name, err)
		}
	})
	db := cfg.Clone()
	db.DBName = name
	return db.FormatDSN(), true
}

// execOnServer runs one statement on the server of cfg.
func execOnServer(cfg *mysql.Config, stmt string) error {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// randomHex returns 2n random hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// redactedAddr names the server of cfg without its password.
func redactedAddr(cfg *mysql.Config) string {
	return cfg.User + "@" + cfg.Net + "(" + cfg.Addr + ")"
}
