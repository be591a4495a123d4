package upstream

import (
	"context"
	"crypto/tls"
	"net"
	"testing"

	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
)

// tlsListener serves mutual TLS with files f on loopback and sends each handshake's
// error (nil when it succeeded) on the channel.
func tlsListener(t *testing.T, f tlsconf.Files) (string, <-chan error) {
	t.Helper()
	srv, err := tlsconf.NewServer(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	results := make(chan error, 4)
	tln := srv.Listener(ln)
	go func() {
		for {
			c, err := tln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				err := c.(*tlsconf.Conn).Handshake()
				results <- err
				if err == nil {
					var b [1]byte
					c.Read(b[:]) // until the client closes
				}
			}()
		}
	}()
	return ln.Addr().String(), results
}

// TestLinkDialsTLS: a link with a TLS client dials a mutual TLS service and hands
// back a TLS connection whose handshake is done, its certificate presented; against a
// service whose certificate another CA signed the dial fails, counted as a dial error.
func TestLinkDialsTLS(t *testing.T) {
	site := tlstest.NewSite(t, "Test CA")
	addr, results := tlsListener(t, site.Issue(tlsgen.RoleServer, "dns1"))
	client, err := tlsconf.NewClient(site.Issue(tlsgen.RoleAgent, "agent-1"))
	if err != nil {
		t.Fatal(err)
	}
	l := newLink(Link{Logger: quiet, DialTimeout: wait, TLS: client}.config("route service", []string{addr}))
	nc, err := l.dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	tc, ok := nc.(*tls.Conn)
	if !ok || !tc.ConnectionState().HandshakeComplete {
		t.Fatalf("dialed %T, want a TLS connection with its handshake done", nc)
	}
	if err := <-results; err != nil {
		t.Fatalf("the service refused the agent: %v", err)
	}

	strange, _ := tlsListener(t, tlstest.NewSite(t, "Other CA").Issue(tlsgen.RoleServer, "dns1"))
	l = newLink(Link{Logger: quiet, DialTimeout: wait, TLS: client}.config("route service", []string{strange}))
	if nc, err := l.dial(context.Background()); err == nil {
		nc.Close()
		t.Fatal("a service whose certificate another CA signed was trusted")
	}
	if st := l.stats(); st.DialErrors != 1 {
		t.Fatalf("dial errors %d, want 1", st.DialErrors)
	}
}
