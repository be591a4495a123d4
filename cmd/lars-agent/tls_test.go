package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/tlsconf"
)

// TestTLSFlags: -tls-cert, -tls-key and -tls-ca override the INI file's [tls] keys
// one by one; files that do not load exit 2 with one line.
func TestTLSFlags(t *testing.T) {
	dir := t.TempDir()
	ini := filepath.Join(dir, "agent.ini")
	if err := os.WriteFile(ini, []byte("[tls]\ncert = a.pem\nkey = a-key.pem\nca = ca.pem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for args, want := range map[string]tlsconf.Files{
		"":                               {},
		"-config " + ini:                 {Cert: "a.pem", Key: "a-key.pem", CA: "ca.pem"},
		"-config " + ini + " -tls-ca x":  {Cert: "a.pem", Key: "a-key.pem", CA: "x"},
		"-tls-ca ca.pem":                 {CA: "ca.pem"},
		"-tls-cert c -tls-key k -tls-ca": {},
	} {
		o, fs, err := parseFlags(strings.Fields(args), io.Discard)
		if err != nil {
			continue // "-tls-ca" without a value: a usage error, as any flag's
		}
		cfg, _, err := buildConfig(o, fs, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if cfg.TLS != want {
			t.Errorf("%q: TLS %+v, want %+v", args, cfg.TLS, want)
		}
	}
	var stderr bytes.Buffer
	missing := filepath.Join(dir, "none.pem")
	if code := run([]string{"-listen", "127.0.0.1", "-ports", "1", "-tls-ca", missing}, &stderr, nil); code != 2 ||
		!strings.Contains(stderr.String(), "none.pem") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
		t.Fatalf("a missing CA file: exit %d, %q", code, stderr.String())
	}
}
