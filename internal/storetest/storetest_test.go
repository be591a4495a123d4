package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestSQLiteDSNIsFresh(t *testing.T) {
	a, b := SQLiteDSN(t), SQLiteDSN(t)
	if a == b || !strings.HasPrefix(a, "sqlite:") {
		t.Errorf("SQLiteDSN gave %q and %q", a, b)
	}
	if _, err := os.Stat(strings.TrimPrefix(a, "sqlite:")); !os.IsNotExist(err) {
		t.Errorf("the database file exists already: %v", err)
	}
}

func TestMySQLDSNWithoutServer(t *testing.T) {
	t.Setenv(EnvMySQLDSN, "")
	if dsn, ok := MySQLDSN(t); ok || dsn != "" {
		t.Errorf("MySQLDSN without %s = %q, %v", EnvMySQLDSN, dsn, ok)
	}
}

// fatalTB records Fatalf instead of ending the test.
type fatalTB struct {
	testing.TB
	msg string
}

type fatalled struct{}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatalled{})
}

func TestMySQLDSNFailsOnUnreachableServer(t *testing.T) {
	// Nothing listens on port 1.
	t.Setenv(EnvMySQLDSN, "lars:secret@tcp(127.0.0.1:1)/lars?timeout=2s")
	tb := &fatalTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != (fatalled{}) {
				panic(r)
			}
		}()
		MySQLDSN(tb)
	}()
	if !strings.Contains(tb.msg, "connection refused") || !strings.Contains(tb.msg, EnvMySQLDSN) {
		t.Errorf("failure message %q; want it to name %s and the cause", tb.msg, EnvMySQLDSN)
	}
	if strings.Contains(tb.msg, "secret") {
		t.Errorf("failure message shows the password: %q", tb.msg)
	}
}

func TestMySQLDSNCreatesAndDropsADatabase(t *testing.T) {
	if os.Getenv(EnvMySQLDSN) == "" {
		t.Skip(EnvMySQLDSN + " not set")
	}
	var name string
	t.Run("user", func(t *testing.T) {
		dsn, ok := MySQLDSN(t)
		if !ok {
			t.Fatal("no DSN")
		}
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		name = cfg.DBName
		if !databaseExists(t, name) {
			t.Errorf("database %s was not created", name)
		}
	})
	if databaseExists(t, name) {
		t.Errorf("database %s still exists after the test", name)
	}
}

// databaseExists asks the test server whether database name exists.
func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	db, err := sql.Open("mysql", os.Getenv(EnvMySQLDSN))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestEachRunsBothEngines(t *testing.T) {
	var ran []string
	Each(t, func(t *testing.T, dsn string) {
		ran = append(ran, t.Name()[strings.LastIndexByte(t.Name(), '/')+1:])
	})
	want := "[sqlite]"
	if os.Getenv(EnvMySQLDSN) != "" {
		want = "[sqlite mariadb]"
	}
	if fmt.Sprint(ran) != want {
		t.Errorf("ran %v, want %s", ran, want)
	}
}
