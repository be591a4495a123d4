package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
)

// TestTLSFlags: -tls-cert, -tls-key and -tls-ca give the service a mutual TLS end;
// files that do not load exit 2 with one line; no flag leaves plain Lars framing.
func TestTLSFlags(t *testing.T) {
	f := tlstest.NewSite(t, "Test CA").Issue(tlsgen.RoleServer, "dns1")
	var stderr bytes.Buffer
	s, err := command.Parse([]string{"-tls-cert", f.Cert, "-tls-key", f.Key, "-tls-ca", f.CA}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if s.Config.TLS == nil || !s.Config.TLS.Mutual() || s.TLS != s.Config.TLS {
		t.Fatalf("TLS %v (settings %v), want one mutual TLS end reloaded on SIGHUP", s.Config.TLS, s.TLS)
	}
	if s, err = command.Parse(nil, &stderr); err != nil || s.Config.TLS != nil {
		t.Fatalf("no TLS flag: TLS %v, %v", s.Config.TLS, err)
	}
	stderr.Reset()
	if code := command.Run([]string{"-tls-cert", f.Key, "-tls-key", f.Key}, &stderr, make(chan os.Signal)); code != 2 ||
		!strings.Contains(stderr.String(), "-tls-cert") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
		t.Fatalf("a key as the certificate: exit %d, %q", code, stderr.String())
	}
}
