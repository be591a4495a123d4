package agent

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/larsgo/lars/internal/tlsconf"
)

// TestLoadINITLS: [tls] cert, key and ca name the agent's TLS files.
func TestLoadINITLS(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ini")
	os.WriteFile(path, []byte("[dnsserver]\nip = 127.0.0.1\nport = 7778\n[tls]\ncert = /etc/lars/agent.pem\nkey = /etc/lars/agent-key.pem\nca = /etc/lars/ca.pem\n"), 0o600)
	var cfg Config
	if err := LoadINI(path, &cfg); err != nil {
		t.Fatal(err)
	}
	want := tlsconf.Files{Cert: "/etc/lars/agent.pem", Key: "/etc/lars/agent-key.pem", CA: "/etc/lars/ca.pem"}
	if cfg.TLS != want {
		t.Fatalf("TLS %+v, want %+v", cfg.TLS, want)
	}
}
