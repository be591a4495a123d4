package routesvc

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// tlsSite is a site CA with a route service serving mutual TLS with its certificate.
type tlsSite struct {
	site *tlstest.Site
	srv  *tlsconf.Server
	svc  *Service
	db   *store.DB
	log  *proctest.Buffer
}

// startTLS starts a route service with mutual TLS on a SQLite store, certificates made
// by tlsgen.
func startTLS(t *testing.T) *tlsSite {
	t.Helper()
	site := tlstest.NewSite(t, "Test CA")
	srv, err := tlsconf.NewServer(site.Issue(tlsgen.RoleServer, "dns1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	db := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "lars.db"))
	log := &proctest.Buffer{}
	svc := startService(t, db, Config{TLS: srv, Logger: slog.New(slog.NewTextHandler(log, nil))})
	return &tlsSite{site: site, srv: srv, svc: svc, db: db, log: log}
}

// dialTLS dials the service as an agent with files f.
func (s *tlsSite) dialTLS(t *testing.T, f tlsconf.Files) (*agentConn, *tls.Conn, error) {
	t.Helper()
	c, err := tlsconf.NewClient(f)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := c.Dial(context.Background(), &net.Dialer{Timeout: eventWithin}, "tcp", s.svc.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() { tc.Close() })
	return &agentConn{t: t, nc: tc, sr: codec.NewStreamReader(tc, 0)}, tc, nil
}

// TestTLSAgentPullsAndGetsPushes: an agent with a certificate the site CA signed pulls
// a key over mutual TLS and gets its change pushed; its identity is in the log.
func TestTLSAgentPullsAndGetsPushes(t *testing.T) {
	s := startTLS(t)
	ctx := context.Background()
	if _, err := s.db.SetHosts(ctx, key11, []route.Host{host("10.0.0.1", 9000)}); err != nil {
		t.Fatal(err)
	}
	a, _, err := s.dialTLS(t, s.site.Issue(tlsgen.RoleAgent, "agent-1"))
	if err != nil {
		t.Fatal(err)
	}
	a.pull(1, 1)
	a.waitFor(key11, []route.Host{host("10.0.0.1", 9000)}, pushWithin)
	if _, err := s.db.SetHosts(ctx, key11, []route.Host{host("10.0.0.2", 9001)}); err != nil {
		t.Fatal(err)
	}
	a.waitFor(key11, []route.Host{host("10.0.0.2", 9001)}, pushWithin)
	if !strings.Contains(s.log.String(), "peer=agent/agent-1") {
		t.Fatalf("the agent's identity is not in the log: %s", s.log.String())
	}
	if st := s.srv.Stats(); st.Handshakes != 1 {
		t.Fatalf("handshakes %d, want 1", st.Handshakes)
	}
}

// TestTLSRefusesPlaintextAndStrangers: a plaintext agent, one without a certificate and
// one whose certificate another CA signed get no route, and each is counted by cause
// in /metrics.
func TestTLSRefusesPlaintextAndStrangers(t *testing.T) {
	s := startTLS(t)
	if _, err := s.db.SetHosts(context.Background(), key11, []route.Host{host("10.0.0.1", 9000)}); err != nil {
		t.Fatal(err)
	}
	plain := dial(t, s.svc)
	plain.pull(1, 1)
	if !plain.closedWithin(eventWithin) {
		t.Fatal("a plaintext agent was answered")
	}
	noCert := tlsconf.Files{CA: s.site.CA()}
	other := tlstest.NewSite(t, "Other CA").Issue(tlsgen.RoleAgent, "agent-1")
	other.CA = s.site.CA() // it trusts the service; the service does not trust it
	for name, f := range map[string]tlsconf.Files{"no certificate": noCert, "another CA": other} {
		a, _, err := s.dialTLS(t, f)
		if err != nil {
			continue // refused at the handshake: as good
		}
		a.pull(1, 1)
		if !a.closedWithin(eventWithin) {
			t.Fatalf("%s: answered", name)
		}
	}
	waitUntil(t, eventWithin, "three refusals counted", func() bool {
		st := s.srv.Stats()
		return st.Failed(tlsconf.CausePlaintext) == 1 && st.Failed(tlsconf.CauseNoCertificate) == 1 && st.Failed(tlsconf.CauseUnknownCA) == 1
	})
	var m strings.Builder
	s.svc.WriteMetrics(&m)
	for _, want := range []string{`lars_dns_tls_handshake_failures_total{cause="plaintext"} 1`, `lars_dns_tls_handshake_failures_total{cause="unknown_ca"} 1`} {
		if !strings.Contains(m.String(), want) {
			t.Fatalf("metrics lack %s:\n%s", want, m.String())
		}
	}
	if st := s.svc.Stats(); st.Pulls != 0 {
		t.Fatalf("pulls %d answered to refused agents", st.Pulls)
	}
}

// TestTLSReloadKeepsConnections: after the service's certificate is replaced and
// reloaded, the agent connected before still gets pushes, and a new handshake gets
// the new certificate.
func TestTLSReloadKeepsConnections(t *testing.T) {
	s := startTLS(t)
	ctx := context.Background()
	agent := s.site.Issue(tlsgen.RoleAgent, "agent-1")
	a, before, err := s.dialTLS(t, agent)
	if err != nil {
		t.Fatal(err)
	}
	a.pull(1, 1)
	a.waitFor(key11, nil, pushWithin)
	old := before.ConnectionState().PeerCertificates[0].SerialNumber
	s.site.Issue(tlsgen.RoleServer, "dns1")
	if err := s.srv.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.SetHosts(ctx, key11, []route.Host{host("10.0.0.3", 9003)}); err != nil {
		t.Fatal(err)
	}
	a.waitFor(key11, []route.Host{host("10.0.0.3", 9003)}, pushWithin)
	_, after, err := s.dialTLS(t, agent)
	if err != nil {
		t.Fatal(err)
	}
	if after.ConnectionState().PeerCertificates[0].SerialNumber.Cmp(old) == 0 {
		t.Fatal("a new handshake got the certificate loaded before the reload")
	}
}
