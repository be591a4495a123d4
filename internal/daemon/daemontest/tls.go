package daemontest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/daemon"
	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
)

// TLSAndPolicyReachService checks cmd's TLS and policy flags: -tls-cert, -tls-key and
// -tls-ca give the service (tlsOf its configuration) the mutual TLS end SIGHUP
// reloads; no flag leaves plain Lars framing; -policy (a file holding policyLine)
// gives the service (policyOf) the policy SIGHUP reloads; files that do not load exit
// 2 with one line.
func TLSAndPolicyReachService[C any](t *testing.T, cmd daemon.Command[C], tlsOf func(C) *tlsconf.Server,
	policyOf func(C) *policy.Live, policyLine string) {
	t.Helper()
	f := tlstest.NewSite(t, "Test CA").Issue(tlsgen.RoleServer, "svc1")
	var stderr bytes.Buffer
	mutual := []string{"-tls-cert", f.Cert, "-tls-key", f.Key, "-tls-ca", f.CA}
	s, err := cmd.Parse(mutual, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if srv := tlsOf(s.Config); srv == nil || !srv.Mutual() || s.TLS != srv {
		t.Fatalf("TLS %v (settings %v), want one mutual TLS end reloaded on SIGHUP", srv, s.TLS)
	}
	if s, err = cmd.Parse(nil, &stderr); err != nil || tlsOf(s.Config) != nil || policyOf(s.Config) != nil {
		t.Fatalf("no TLS flag: %v", err)
	}
	file := filepath.Join(t.TempDir(), "policy")
	if err := os.WriteFile(file, []byte(policyLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err = cmd.Parse(append(mutual, "-policy", file), &stderr); err != nil || policyOf(s.Config) == nil || s.Policy != policyOf(s.Config) {
		t.Fatalf("-policy: %v; want the policy in the service and reloaded on SIGHUP", err)
	}
	stderr.Reset()
	if code := cmd.Run([]string{"-tls-cert", f.Key, "-tls-key", f.Key}, &stderr, make(chan os.Signal)); code != 2 ||
		!strings.Contains(stderr.String(), "-tls-cert") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
		t.Fatalf("a key as the certificate: exit %d, %q", code, stderr.String())
	}
}
