package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// settingsOf parses args and builds the settings with the environment env.
func settingsOf(t *testing.T, args []string, env map[string]string) (*settings, error) {
	t.Helper()
	o, fs, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return buildSettings(o, fs, func(k string) string { return env[k] }, io.Discard)
}

// TestDSNFromFileOrEnvironment: the DSN comes from -db, else -db-file, else the conf
// file, else $LARS_DB; -db and -db-file together are refused.
func TestDSNFromFileOrEnvironment(t *testing.T) {
	file := filepath.Join(t.TempDir(), "dsn")
	os.WriteFile(file, []byte("lars:filepw@tcp(127.0.0.1:3306)/lars_dns\n"), 0o600)
	env := map[string]string{"LARS_DB": "lars:envpw@tcp(127.0.0.1:3306)/lars_dns"}
	for args, want := range map[string]string{
		"-db sqlite:x.db":  "sqlite:x.db",
		"-db-file " + file: "lars:filepw@tcp(127.0.0.1:3306)/lars_dns",
		"":                 "lars:envpw@tcp(127.0.0.1:3306)/lars_dns",
	} {
		s, err := settingsOf(t, strings.Fields(args), env)
		if err != nil || !strings.HasPrefix(s.dsn, want) {
			t.Errorf("%q: %v, %v; want DSN %q", args, s, err, want)
		}
	}
	if _, err := settingsOf(t, []string{"-db", "sqlite:x.db", "-db-file", file}, nil); err == nil {
		t.Error("-db with -db-file accepted")
	}
}

// TestProxyFlags: -trusted-proxies and -behind-proxy reach the settings; they need no
// token (every request needs a login).
func TestProxyFlags(t *testing.T) {
	s, err := settingsOf(t, []string{"-trusted-proxies", "127.0.0.1,10.0.0.0/8", "-behind-proxy", "-allowed-hosts", "Lars.Example.com", "-max-conns", "9"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := s.guard
	if len(g.TrustedProxies) != 2 || !g.BehindProxy || !slices.Equal(g.AllowedHosts, []string{"lars.example.com"}) || g.MaxConns != 9 || g.Listen != DefaultListen {
		t.Errorf("guard options %+v", g)
	}
	if !slices.Equal(s.adminOpts.AllowedHosts, g.AllowedHosts) {
		t.Errorf("admin allowed hosts %q", s.adminOpts.AllowedHosts)
	}
	for _, args := range [][]string{{"-trusted-proxies", "10.0.0.0/33"}, {"-allowed-hosts", "a.example:80"}, {"-max-conns", "0"}} {
		if _, err := settingsOf(t, args, nil); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%q: %v, want an error naming %s", args, err, args[0])
		}
	}
}

// TestAdminTokenFile: the admin token is the file's first line, at least 16
// characters.
func TestAdminTokenFile(t *testing.T) {
	dir := t.TempDir()
	good, short := filepath.Join(dir, "good"), filepath.Join(dir, "short")
	os.WriteFile(good, []byte("0123456789abcdef-admin\n"), 0o600)
	os.WriteFile(short, []byte("abc\n"), 0o600)
	if s, err := settingsOf(t, []string{"-admin-token-file", good}, nil); err != nil || s.adminOpts.Token != "0123456789abcdef-admin" {
		t.Errorf("admin token: %v, %v", s, err)
	}
	if _, err := settingsOf(t, []string{"-admin-token-file", short}, nil); err == nil {
		t.Error("a short admin token accepted")
	}
}
