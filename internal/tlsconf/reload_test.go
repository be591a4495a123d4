package tlsconf

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/larsgo/lars/internal/tlsgen"
)

// TestReloadCertificate: after Reload, new handshakes get the new certificate; the
// connection made before keeps working. A failed Reload keeps the files loaded before.
func TestReloadCertificate(t *testing.T) {
	s := newSite(t)
	ts := startServer(t, s.issue(tlsgen.RoleServer, "dns-1"), 0)
	agent := s.issue(tlsgen.RoleAgent, "a")
	old, err := dial(t, ts, agent)
	if err != nil {
		t.Fatal(err)
	}
	if err := echo(old, "before"); err != nil {
		t.Fatal(err)
	}
	oldSerial := old.ConnectionState().PeerCertificates[0].SerialNumber

	s.issue(tlsgen.RoleServer, "dns-1") // a new pair over the files
	if err := ts.Reload(); err != nil {
		t.Fatal(err)
	}
	if ts.Certificate().SerialNumber.Cmp(oldSerial) == 0 {
		t.Fatal("Reload kept the old certificate")
	}
	fresh, err := dial(t, ts, agent)
	if err != nil {
		t.Fatal(err)
	}
	if got := fresh.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(ts.Certificate().SerialNumber) != 0 {
		t.Errorf("new handshake got serial %v, want the reloaded %v", got, ts.Certificate().SerialNumber)
	}
	for _, c := range []struct {
		name string
		err  error
	}{{"established", echo(old, "after")}, {"new", echo(fresh, "after")}} {
		if c.err != nil {
			t.Errorf("%s connection after Reload: %v", c.name, c.err)
		}
	}

	if err := os.WriteFile(ts.files.Cert, []byte("broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	serial := ts.Certificate().SerialNumber
	if err := ts.Reload(); err == nil {
		t.Fatal("Reload of a broken certificate succeeded")
	}
	third, err := dial(t, ts, agent)
	if err != nil {
		t.Fatalf("after a failed Reload: %v", err)
	}
	if got := third.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(serial) != 0 {
		t.Errorf("after a failed Reload: serial %v, want %v", got, serial)
	}
	if st := ts.Stats(); st.Reloads != 1 || st.ReloadErrors != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestReloadCA: a server reloading a new CA refuses the old CA's clients from then on,
// and takes the new CA's, without closing the connection an old client made before.
func TestReloadCA(t *testing.T) {
	s := newSite(t)
	serverFiles := s.issue(tlsgen.RoleServer, "rep-1")
	serverFiles.CA = filepath.Join(t.TempDir(), "clients-ca.pem") // the CA of its clients, apart
	copyFile(t, s.caFile(), serverFiles.CA)
	ts := startServer(t, serverFiles, 0)
	agent := s.issue(tlsgen.RoleAgent, "a")
	old, err := dial(t, ts, agent)
	if err != nil {
		t.Fatal(err)
	}
	if err := echo(old, "x"); err != nil {
		t.Fatal(err)
	}
	ts.result(t)

	next := newSite(t)
	copyFile(t, next.caFile(), serverFiles.CA)
	if err := ts.Reload(); err != nil {
		t.Fatal(err)
	}
	c, err := dial(t, ts, agent)
	refused(t, c, err)
	if r := ts.result(t); r.err == nil || ts.Stats().Failed(CauseUnknownCA) != 1 {
		t.Errorf("an old CA's client after Reload: %v; stats %+v", r.err, ts.Stats())
	}
	nextAgent := next.issue(tlsgen.RoleAgent, "b")
	nextAgent.CA = s.caFile() // the server's certificate is still the old CA's
	c, err = dial(t, ts, nextAgent)
	if err == nil {
		err = echo(c, "y")
	}
	if err != nil {
		t.Errorf("the new CA's client: %v", err)
	}
	if r := ts.result(t); r.peer.Name != "b" {
		t.Errorf("the new CA's client: %+v", r)
	}
	if err := echo(old, "still here"); err != nil {
		t.Errorf("established connection after the CA's Reload: %v", err)
	}
}

// copyFile copies file from to file to.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestClientReload: a client presents the certificate it reloaded from then on.
func TestClientReload(t *testing.T) {
	s := newSite(t)
	ts := startServer(t, s.issue(tlsgen.RoleServer, "dns-1"), 0)
	a, b := s.issue(tlsgen.RoleAgent, "a"), s.issue(tlsgen.RoleAgent, "b")
	cl, err := NewClient(a)
	if err != nil {
		t.Fatal(err)
	}
	dialName := func() string {
		t.Helper()
		c, err := cl.Dial(context.Background(), &net.Dialer{}, "tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := echo(c, "x"); err != nil {
			t.Fatal(err)
		}
		return ts.result(t).peer.Name
	}
	if got := dialName(); got != "a" {
		t.Errorf("before Reload: %q", got)
	}
	copyFile(t, b.Cert, a.Cert)
	copyFile(t, b.Key, a.Key)
	if err := cl.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := dialName(); got != "b" || cl.Certificate().Subject.CommonName != "b" {
		t.Errorf("after Reload: %q", got)
	}
}
