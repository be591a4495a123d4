package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
)

// TestPolicyFlag: -policy loads the file under mutual TLS; without a CA, or with a
// bad file, the daemon does not start, and the error says why (the line at fault).
func TestPolicyFlag(t *testing.T) {
	files := tlstest.NewSite(t, "Test CA").Issue(tlsgen.RoleServer, "dns1")
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	os.WriteFile(good, []byte("# agents only\npull agent/* *\n"), 0o600)
	os.WriteFile(bad, []byte("pull agent/* *\npull agent/*\n"), 0o600)
	resolve := func(args ...string) (*Resolved, error) { return resolveArgs(t, args...) }
	mutual := []string{"-tls-cert", files.Cert, "-tls-key", files.Key, "-tls-ca", files.CA}
	r, err := resolve(append(mutual, "-policy", good)...)
	if err != nil || r.Policy == nil || len(r.Policy.Current().Rules()) != 1 {
		t.Fatalf("a good policy under mutual TLS: %v, %v", r, err)
	}
	if r, err = resolve(mutual...); err != nil || r.Policy != nil {
		t.Fatalf("no -policy: %v, %v", r, err)
	}
	for name, args := range map[string][]string{
		"no TLS":       {"-policy", good},
		"TLS, no CA":   {"-tls-cert", files.Cert, "-tls-key", files.Key, "-policy", good},
		"bad file":     append(mutual, "-policy", bad),
		"missing file": append(mutual, "-policy", filepath.Join(dir, "none")),
	} {
		_, err := resolve(args...)
		if err == nil {
			t.Errorf("%s: resolved", name)
			continue
		}
		if name == "bad file" && !strings.Contains(err.Error(), "line 2") {
			t.Errorf("bad file: %v, want the line at fault", err)
		}
		if strings.HasPrefix(name, "no TLS") || strings.HasPrefix(name, "TLS, no CA") {
			if !strings.Contains(err.Error(), "mutual TLS") {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}
