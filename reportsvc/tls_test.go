package reportsvc

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
	"github.com/larsgo/lars/store"
)

// startTLS starts a report service with mutual TLS on a SQLite store, its certificate
// made by tlsgen, and returns it with its site and its TLS end.
func startTLS(t *testing.T) (*running, *store.DB, *tlstest.Site, *tlsconf.Server, *proctest.Buffer) {
	t.Helper()
	site := tlstest.NewSite(t, "Test CA")
	srv, err := tlsconf.NewServer(site.Issue(tlsgen.RoleServer, "reporter1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	db := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "lars.db"))
	log := &proctest.Buffer{}
	r := startService(t, db, Config{TLS: srv, Logger: slog.New(slog.NewTextHandler(log, nil))})
	return r, db, site, srv, log
}

// dialTLS dials svc as a client with files f; the error is the handshake's.
func dialTLS(t *testing.T, svc *Service, f tlsconf.Files) (*agentConn, error) {
	t.Helper()
	c, err := tlsconf.NewClient(f)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := c.Dial(context.Background(), &net.Dialer{Timeout: settle}, "tcp", svc.Addr().String())
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { tc.Close() })
	return &agentConn{t: t, nc: tc}, nil
}

// TestTLSAgentReports: an agent's report over mutual TLS is stored; its identity is in
// the log.
func TestTLSAgentReports(t *testing.T) {
	r, db, site, _, log := startTLS(t)
	a, err := dialTLS(t, r.Service, site.Issue(tlsgen.RoleAgent, "agent-1"))
	if err != nil {
		t.Fatal(err)
	}
	ts := uint32(time.Now().Unix() - 60)
	a.report(1, 1, 7, ts, result{ip: 0x0a000001, port: 9000, succ: 5})
	waitSettled(t, r.Service, 1, settle)
	got := rows(t, db)
	if len(got) != 1 || got[0].Succ != 5 || got[0].TS != int64(ts) {
		t.Fatalf("rows %v, want the agent's report", got)
	}
	if !strings.Contains(log.String(), "peer=agent/agent-1") {
		t.Fatalf("the agent's identity is not in the log: %s", log.String())
	}
}

// TestTLSRefusesForgedStatus: a forged status sent in plaintext, without a
// certificate, with one another CA signed, or with a certificate of a role not allowed
// to report (a client's) stores nothing; each is counted.
func TestTLSRefusesForgedStatus(t *testing.T) {
	r, db, site, srv, _ := startTLS(t)
	forged := reportFrame(t, 1, 1, 7, uint32(time.Now().Unix()), result{ip: 0x0a000001, port: 9000, err: 1000, overload: true})
	plain := dial(t, r.Service)
	plain.send(forged)
	if !plain.closedWithin(settle) {
		t.Fatal("a plaintext connection was kept")
	}
	other := tlstest.NewSite(t, "Other CA").Issue(tlsgen.RoleAgent, "agent-1")
	other.CA = site.CA()
	for name, f := range map[string]tlsconf.Files{
		"no certificate": {CA: site.CA()},
		"another CA":     other,
		"client role":    site.Issue(tlsgen.RoleClient, "script"),
	} {
		a, err := dialTLS(t, r.Service, f)
		if err != nil {
			continue // refused at the handshake: as good
		}
		a.nc.Write(forged)
		if !a.closedWithin(settle) {
			t.Fatalf("%s: the connection was kept", name)
		}
	}
	waitUntil(t, settle, "every refusal counted", func() bool {
		st := srv.Stats()
		return st.Failed(tlsconf.CausePlaintext) == 1 && st.Failed(tlsconf.CauseNoCertificate) == 1 &&
			st.Failed(tlsconf.CauseUnknownCA) == 1 && r.Stats().NotAllowed == 1
	})
	if st := r.Stats(); st.Frames != 0 || st.Results != 0 {
		t.Fatalf("frames %d, results %d read from refused connections", st.Frames, st.Results)
	}
	if got := rows(t, db); len(got) != 0 {
		t.Fatalf("rows %v stored from refused connections", got)
	}
	var m strings.Builder
	r.WriteMetrics(&m)
	for _, want := range []string{`lars_reporter_tls_handshake_failures_total{cause="plaintext"} 1`,
		`lars_reporter_connections_closed_total{cause="not_allowed"} 1`} {
		if !strings.Contains(m.String(), want) {
			t.Fatalf("metrics lack %s:\n%s", want, m.String())
		}
	}
}

// TestReportRolesAllowClients: with ReportRoles naming the client role, a client
// certificate's report is stored.
func TestReportRolesAllowClients(t *testing.T) {
	site := tlstest.NewSite(t, "Test CA")
	srv, err := tlsconf.NewServer(site.Issue(tlsgen.RoleServer, "reporter1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	db := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "lars.db"))
	r := startService(t, db, Config{TLS: srv, ReportRoles: []tlsgen.Role{tlsgen.RoleAgent, tlsgen.RoleClient}})
	a, err := dialTLS(t, r.Service, site.Issue(tlsgen.RoleClient, "script"))
	if err != nil {
		t.Fatal(err)
	}
	a.report(1, 1, 7, 0, result{ip: 0x0a000001, port: 9000, succ: 1})
	waitSettled(t, r.Service, 1, settle)
	if got := rows(t, db); len(got) != 1 {
		t.Fatalf("rows %v, want the client's report", got)
	}
}

// TestFutureTimestampClamped: a report stamped in the future, TLS or not, is stored
// with the time it was read, counted.
func TestFutureTimestampClamped(t *testing.T) {
	db := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "lars.db"))
	now := time.Unix(1_800_000_000, 0)
	r := startService(t, db, Config{Now: func() time.Time { return now }})
	a := dial(t, r.Service)
	a.report(1, 1, 7, uint32(now.Unix()+2_200_000_000/1000), result{ip: 0x0a000001, port: 9000, succ: 1})
	a.report(1, 2, 7, uint32(now.Unix()-30), result{ip: 0x0a000001, port: 9000, succ: 1})
	st := waitSettled(t, r.Service, 2, settle)
	if st.FutureClamped != 1 {
		t.Fatalf("future reports clamped %d, want 1", st.FutureClamped)
	}
	got := rows(t, db)
	if len(got) != 2 || got[0].TS != now.Unix() || got[1].TS != now.Unix()-30 {
		t.Fatalf("rows %v: want the future ts clamped to %d and the past one kept", got, now.Unix())
	}
}
