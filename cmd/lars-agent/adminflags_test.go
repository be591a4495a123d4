package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestAdminGuardFlags: -allowed-hosts and -admin-token-file reach the admin endpoint's
// options; a host with a port and a short token are refused.
func TestAdminGuardFlags(t *testing.T) {
	dir := t.TempDir()
	good, short := filepath.Join(dir, "good"), filepath.Join(dir, "short")
	os.WriteFile(good, []byte("0123456789abcdef-agent\n"), 0o600)
	os.WriteFile(short, []byte("abc\n"), 0o600)
	build := func(args ...string) (*options, error) {
		t.Helper()
		o, fs, err := parseFlags(append([]string{"-routes", "x"}, args...), io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		_, _, err = buildConfig(o, fs, io.Discard)
		return o, err
	}
	o, err := build("-admin", "127.0.0.1:0", "-allowed-hosts", "Agent1.Example.com", "-admin-token-file", good)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.adminOpts.AllowedHosts, []string{"agent1.example.com"}) || o.adminOpts.Token != "0123456789abcdef-agent" {
		t.Errorf("admin options %+v", o.adminOpts)
	}
	for _, args := range [][]string{{"-allowed-hosts", "a.example:80"}, {"-admin-token-file", short}, {"-admin-token-file", filepath.Join(dir, "missing")}} {
		if _, err := build(args...); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}
