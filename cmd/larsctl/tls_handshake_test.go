package main

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"

	"github.com/larsgo/lars/internal/tlsconf"
)

// TestTLSFilesServeMutualTLS: the files tls ca create and tls cert create write are
// what tlsconf loads, and an agent's and a server's make a mutual TLS connection on
// loopback in which each names the other.
func TestTLSFilesServeMutualTLS(t *testing.T) {
	caDir := makeCA(t)
	dir := t.TempDir()
	for _, args := range [][]string{{"-server", "-name", "dns-1"}, {"-agent", "-name", "agent-1"}} {
		code, out, errOut := larsctl(nil, append([]string{"tls", "cert", "create", "-ca-dir", caDir, "-dir", dir, "-days", "7"}, args...)...)
		check(t, code, out, errOut, 0, "-")
	}
	ca := filepath.Join(caDir, "lars-ca.pem")
	srv, err := tlsconf.NewServer(tlsconf.Files{Cert: filepath.Join(dir, "server-dns-1.pem"), Key: filepath.Join(dir, "server-dns-1-key.pem"), CA: ca}, 0)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := tlsconf.NewClient(tlsconf.Files{Cert: filepath.Join(dir, "agent-agent-1.pem"), Key: filepath.Join(dir, "agent-agent-1-key.pem"), CA: ca})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	seen := make(chan string, 1)
	go func() {
		c, err := srv.Listener(ln).Accept()
		if err != nil {
			seen <- err.Error()
			return
		}
		defer c.Close()
		b := make([]byte, 1)
		if _, err := io.ReadFull(c, b); err != nil {
			seen <- err.Error()
			return
		}
		p, _ := tlsconf.Identity(c)
		seen <- p.String()
	}()
	c, err := cl.Dial(context.Background(), &net.Dialer{}, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; got != "agent/agent-1" {
		t.Errorf("the server saw %q, want agent/agent-1", got)
	}
	if p, ok := tlsconf.Identity(c); !ok || p.String() != "server/dns-1" {
		t.Errorf("the agent saw %v %v, want server/dns-1", p, ok)
	}
}
