package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/larsgo/lars/internal/storetest"
)

func TestRedact(t *testing.T) {
	f := func(dsn, want string) {
		t.Helper()
		if got := Redact(dsn); got != want {
			t.Errorf("Redact(%q) = %q, want %q", dsn, got, want)
		}
	}
	f("lars:secret@tcp(127.0.0.1:3306)/lars_dns", "lars:xxxxx@tcp(127.0.0.1:3306)/lars_dns")
	f("mysql:lars:secret@tcp(db:3306)/lars_dns?timeout=5s", "mysql:lars:xxxxx@tcp(db:3306)/lars_dns?timeout=5s")
	f("lars:p@ss:w/rd@tcp(db:3306)/lars", "lars:xxxxx@tcp(db:3306)/lars")
	f("lars@tcp(db:3306)/lars", "lars@tcp(db:3306)/lars")
	f("lars:@tcp(db:3306)/lars", "lars:@tcp(db:3306)/lars")
	f("/lars", "/lars")
	f("sqlite:/var/lib/lars/lars.db", "sqlite:/var/lib/lars/lars.db")
	f("lars:secret@host", "lars:xxxxx@host")
	f("", "")
}

func FuzzRedact(f *testing.F) {
	for _, seed := range []string{
		"lars:secret@tcp(127.0.0.1:3306)/lars_dns",
		"mysql:u:p@unix(/run/mysqld.sock)/db?timeout=1s",
		"u:p@ss@tcp(h)/d/e",
		"u:a:b@/",
		"sqlite:x.db",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		got := Redact(dsn)
		cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, mysqlPrefix))
		if strings.HasPrefix(dsn, sqlitePrefix) || err != nil || cfg.Passwd == "" {
			return
		}
		again, err := mysql.ParseDSN(strings.TrimPrefix(got, mysqlPrefix))
		if err != nil {
			t.Fatalf("Redact(%q) = %q does not parse: %v", dsn, got, err)
		}
		if again.Passwd != redacted || again.User != cfg.User || again.Addr != cfg.Addr || again.DBName != cfg.DBName {
			t.Fatalf("Redact(%q) = %q: password %q user %q addr %q db %q", dsn, got, again.Passwd, again.User, again.Addr, again.DBName)
		}
	})
}

func TestParseInt64(t *testing.T) {
	f := func(in string, want int64, ok bool) {
		t.Helper()
		got, err := parseInt64([]byte(in))
		if (err == nil) != ok || got != want {
			t.Errorf("parseInt64(%q) = %d, %v; want %d, ok %v", in, got, err, want, ok)
		}
	}
	f("0", 0, true)
	f("4294967295", 4294967295, true)
	f("-2147483648", -2147483648, true)
	f("", 0, false)
	f("-", 0, false)
	f("12a", 0, false)
	f("1234567890123456789", 0, false)
}

func FuzzWire32Scan(f *testing.F) {
	for _, seed := range []string{"0", "3232235777", "4294967295", "4294967296", "-1", "-2147483649", "x", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var fromBytes, fromString int32
		errB := wire32{&fromBytes}.Scan([]byte(s))
		errS := wire32{&fromString}.Scan(s)
		if (errB == nil) != (errS == nil) || fromBytes != fromString {
			t.Fatalf("%q: []byte gives %d, %v; string gives %d, %v", s, fromBytes, errB, fromString, errS)
		}
		if errB != nil {
			return
		}
		var fromInt int32
		v, _ := parseInt64([]byte(s))
		if err := (wire32{&fromInt}).Scan(v); err != nil || fromInt != fromBytes || int64(uint32(fromInt)) != v && int64(fromInt) != v {
			t.Fatalf("%q: int64 %d gives %d, %v; text gives %d", s, v, fromInt, err, fromBytes)
		}
	})
}

func TestOpenBadDSNs(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ dsn, want string }{
		{"", "empty database address"},
		{"sqlite:", "names no file"},
		{"sqlite:" + filepath.Join(dir, "missing", "lars.db"), "no such file or directory"},
		{"sqlite:" + filepath.Join(notDir, "lars.db"), "not a directory"},
		{"sqlite:" + filepath.Join(dir, "a?b.db"), "contains '?'"},
		{"postgres://lars:secret@db/lars", "is a URL"},
		{"lars:secret@tcp(127.0.0.1:3306)/", "names no database"},
		{"lars:secret@tcp(127.0.0.1:3306)", "missing the slash"},
		{"lars:secret@bogus(127.0.0.1:3306)/lars", "unknown network"},
		// Nothing listens on port 1: refused at once.
		{"lars:secret@tcp(127.0.0.1:1)/lars", "connection refused"},
	}
	if raw := os.Getenv(storetest.EnvMySQLDSN); raw != "" {
		cfg, err := mysql.ParseDSN(strings.TrimPrefix(raw, mysqlPrefix))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Passwd = "secret-wrong-password"
		cases = append(cases, struct{ dsn, want string }{cfg.FormatDSN(), "Access denied"})
	}
	for _, c := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		db, err := Open(ctx, c.dsn)
		cancel()
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", c.dsn)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q) = %v; want it to say %q", c.dsn, err, c.want)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) error shows the password: %v", c.dsn, err)
		}
	}
}

func TestCheckDSN(t *testing.T) {
	dir := t.TempDir()
	bad := map[string]string{
		"":                                       "empty database address",
		"sqlite:":                                "names no file",
		"sqlite:" + filepath.Join(dir, "x", "l"): "no such file or directory",
		"postgres://lars:secret@db/lars":         "is a URL",
		"lars:secret@tcp(127.0.0.1:3306)/":       "names no database",
		"lars:secret@tcp(127.0.0.1:3306)":        "missing the slash",
		"lars:secret@bogus(127.0.0.1:3306)/lars": "unknown network",
	}
	for dsn, want := range bad {
		err := CheckDSN(dsn)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("CheckDSN(%q) = %v; want an error saying %q without the password", dsn, err, want)
		}
	}
	// Well formed, whether or not anything answers there: CheckDSN never connects.
	for _, dsn := range []string{"sqlite:" + filepath.Join(dir, "lars.db"), "lars:secret@tcp(127.0.0.1:1)/lars", "mysql:u@unix(/run/m.sock)/lars"} {
		if err := CheckDSN(dsn); err != nil {
			t.Errorf("CheckDSN(%q) = %v", dsn, err)
		}
	}
}
