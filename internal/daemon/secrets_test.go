package daemon

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// resolve registers the flags, parses args and resolves them with getenv.
func resolve(t *testing.T, args []string, getenv func(string) string) (*Resolved, error) {
	t.Helper()
	f := Flags{Getenv: getenv}
	fs := flag.NewFlagSet("svc", flag.ContinueOnError)
	f.Register(fs, "conf", "127.0.0.1:0", "clients connect to", 10, time.Second)
	if err := Parse(fs, args, io.Discard, "a service"); err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return f.Resolve(fs, io.Discard)
}

// writeFile writes text to name in a new folder and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDSNSources: the DSN comes from -db, else -db-file's first line, else the conf
// file, else $LARS_DB, else the default; -db with -db-file is refused.
func TestDSNSources(t *testing.T) {
	const fileDSN, envDSN = "u:filepass@tcp(db:3306)/lars_dns", "u:envpass@tcp(db:3306)/lars_dns"
	dbFile := writeFile(t, "dsn", fileDSN+"\n")
	conf := writeFile(t, "lars_dns.conf", "[mysql]\ndb_host = confhost\ndb_port = 3306\ndb_user = u\ndb_passwd = p\ndb_name = lars_dns\n")
	env := func(k string) string {
		if k == "LARS_DB" {
			return envDSN
		}
		return ""
	}
	none := func(string) string { return "" }
	for _, c := range []struct {
		args   []string
		getenv func(string) string
		want   string
	}{
		{[]string{"-db", "sqlite:a.db", "-config", conf}, env, "sqlite:a.db"},
		{[]string{"-db-file", dbFile, "-config", conf}, env, fileDSN},
		{[]string{"-config", conf}, env, "u:p@tcp(confhost:3306)/lars_dns"},
		{nil, env, envDSN},
		{nil, none, DefaultDB},
	} {
		r, err := resolve(t, c.args, c.getenv)
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		if !strings.HasPrefix(r.DSN, c.want) {
			t.Errorf("%q: DSN %q, want %q", c.args, r.DSN, c.want)
		}
	}
	if _, err := resolve(t, []string{"-db", "sqlite:a.db", "-db-file", dbFile}, none); err == nil {
		t.Error("-db with -db-file accepted")
	}
	if _, err := resolve(t, []string{"-db-file", filepath.Join(t.TempDir(), "missing")}, none); err == nil || !strings.Contains(err.Error(), "-db-file") {
		t.Errorf("a missing -db-file: %v", err)
	}
}

// TestAdminOptions: -allowed-hosts and -admin-token-file reach Settings.AdminOptions;
// a bad name and a short token are refused.
func TestAdminOptions(t *testing.T) {
	token := writeFile(t, "token", "0123456789abcdef-admin\n")
	r, err := resolve(t, []string{"-allowed-hosts", "Metrics.Example.com,10.0.0.5", "-admin-token-file", token}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.AdminOptions.AllowedHosts; !slices.Equal(got, []string{"metrics.example.com", "10.0.0.5"}) {
		t.Errorf("allowed hosts %q", got)
	}
	if r.AdminOptions.Token != "0123456789abcdef-admin" {
		t.Errorf("token %q", r.AdminOptions.Token)
	}
	if _, err := resolve(t, []string{"-allowed-hosts", "x.example.com:80"}, nil); err == nil || !strings.Contains(err.Error(), "-allowed-hosts") {
		t.Errorf("a host with a port: %v", err)
	}
	if _, err := resolve(t, []string{"-admin-token-file", writeFile(t, "short", "abc\n")}, nil); err == nil || !strings.Contains(err.Error(), "-admin-token-file") {
		t.Errorf("a short token: %v", err)
	}
}
