package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/daemon/daemontest"
	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
	"github.com/larsgo/lars/reportsvc"
)

// TestTLSFlags: the TLS files and the policy reach the report service; -report-roles
// gives the roles that may report (agents by default), refused beside -policy; a bad
// role exits 2 with one line.
func TestTLSFlags(t *testing.T) {
	daemontest.TLSAndPolicyReachService(t, command, func(c reportsvc.Config) *tlsconf.Server { return c.TLS },
		func(c reportsvc.Config) *policy.Live { return c.Policy }, "report agent/* *")
	f := tlstest.NewSite(t, "Test CA").Issue(tlsgen.RoleServer, "reporter1")
	var stderr bytes.Buffer
	s, err := command.Parse([]string{"-tls-cert", f.Cert, "-tls-key", f.Key, "-tls-ca", f.CA}, &stderr)
	if err != nil || !slices.Equal(s.Config.ReportRoles, []tlsgen.Role{tlsgen.RoleAgent}) {
		t.Fatalf("roles %v, %v: want agents reporting by default", s.Config.ReportRoles, err)
	}
	if s, err = command.Parse([]string{"-report-roles", "agent, client"}, &stderr); err != nil || !slices.Equal(s.Config.ReportRoles, []tlsgen.Role{tlsgen.RoleAgent, tlsgen.RoleClient}) {
		t.Fatalf("-report-roles agent,client: %v, %v", s.Config.ReportRoles, err)
	}
	pol := filepath.Join(t.TempDir(), "policy")
	os.WriteFile(pol, []byte("report agent/* *\n"), 0o600)
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
