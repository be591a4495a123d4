package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
)

// TestTLSFlags: -tls-cert, -tls-key and -tls-ca give the service a mutual TLS end and
// -report-roles the roles that may report (agents by default); a bad role exits 2
// with one line.
func TestTLSFlags(t *testing.T) {
	f := tlstest.NewSite(t, "Test CA").Issue(tlsgen.RoleServer, "reporter1")
	var stderr bytes.Buffer
	s, err := command.Parse([]string{"-tls-cert", f.Cert, "-tls-key", f.Key, "-tls-ca", f.CA}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if s.Config.TLS == nil || !s.Config.TLS.Mutual() || s.TLS != s.Config.TLS || !slices.Equal(s.Config.ReportRoles, []tlsgen.Role{tlsgen.RoleAgent}) {
		t.Fatalf("TLS %v, roles %v: want mutual TLS, agents reporting", s.Config.TLS, s.Config.ReportRoles)
	}
	if s, err = command.Parse([]string{"-report-roles", "agent, client"}, &stderr); err != nil || !slices.Equal(s.Config.ReportRoles, []tlsgen.Role{tlsgen.RoleAgent, tlsgen.RoleClient}) || s.Config.TLS != nil {
		t.Fatalf("-report-roles agent,client without TLS: %v, %v, %v", s.Config.ReportRoles, s.Config.TLS, err)
	}
	pol := filepath.Join(t.TempDir(), "policy")
	os.WriteFile(pol, []byte("report agent/* *\n"), 0o600)
	if s, err = command.Parse([]string{"-tls-cert", f.Cert, "-tls-key", f.Key, "-tls-ca", f.CA, "-policy", pol}, &stderr); err != nil || s.Config.Policy == nil {
		t.Fatalf("-policy: %v, %v", s, err)
	}
	if _, err = command.Parse([]string{"-tls-cert", f.Cert, "-tls-key", f.Key, "-tls-ca", f.CA, "-policy", pol, "-report-roles", "agent"}, &stderr); err == nil || !strings.Contains(err.Error(), "give one") {
		t.Fatalf("-policy with -report-roles: %v", err)
	}
	for _, bad := range []string{"robot", ","} {
		stderr.Reset()
		if code := command.Run([]string{"-report-roles", bad}, &stderr, make(chan os.Signal)); code != 2 ||
			!strings.Contains(stderr.String(), "-report-roles") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
			t.Fatalf("-report-roles %q: exit %d, %q", bad, code, stderr.String())
		}
	}
}

// FuzzParseRoles: -report-roles gives only the roles tlsgen knows, at least one, and
// the list written back with commas reads the same.
func FuzzParseRoles(f *testing.F) {
	for _, s := range []string{"agent", "agent,client", " agent , server ", ",", "", "robot", "agent,,console"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		roles, err := parseRoles(s)
		if err != nil {
			return
		}
		if len(roles) == 0 {
			t.Fatalf("%q: no role and no error", s)
		}
		names := make([]string, len(roles))
		for i, r := range roles {
			if !slices.Contains(tlsgen.Roles, r) {
				t.Fatalf("%q: unknown role %q", s, r)
			}
			names[i] = string(r)
		}
		again, err := parseRoles(strings.Join(names, ","))
		if err != nil || !slices.Equal(again, roles) {
			t.Fatalf("%q: %v read back as %v, %v", s, roles, again, err)
		}
	})
}
