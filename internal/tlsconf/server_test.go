package tlsconf

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/tlsgen"
)

func TestMutualTLS(t *testing.T) {
	s := newSite(t)
	ts := startServer(t, s.issue(tlsgen.RoleServer, "dns-1"), 0)
	c, err := dial(t, ts, s.issue(tlsgen.RoleAgent, "agent-7"))
	if err != nil {
		t.Fatal(err)
	}
	if err := echo(c, "hello"); err != nil {
		t.Fatal(err)
	}
	r := ts.result(t)
	if r.err != nil || !r.ok || r.peer != (Peer{Name: "agent-7", Role: tlsgen.RoleAgent}) {
		t.Errorf("server side: %+v", r)
	}
	if p, ok := Identity(c); !ok || p != (Peer{Name: "dns-1", Role: tlsgen.RoleServer}) {
		t.Errorf("client side: %v %v", p, ok)
	}
	if v := c.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Errorf("version %x, want TLS 1.3", v)
	}
	if st := ts.Stats(); st.Handshakes != 1 || st.Failures != [numCauses]uint64{} {
		t.Errorf("stats %+v", st)
	}
}

func TestTLS12(t *testing.T) {
	s := newSite(t)
	ts := startServer(t, s.issue(tlsgen.RoleServer, "dns-1"), 0)
	cl, err := NewClient(s.issue(tlsgen.RoleAgent, "a"))
	if err != nil {
		t.Fatal(err)
	}
	conf := cl.Config("127.0.0.1")
	conf.MaxVersion = tls.VersionTLS12
	c, err := tls.Dial("tcp", ts.addr, conf)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := echo(c, "x"); err != nil || c.ConnectionState().Version != tls.VersionTLS12 {
		t.Errorf("TLS 1.2: %v, version %x", err, c.ConnectionState().Version)
	}
	if r := ts.result(t); r.peer.Name != "a" {
		t.Errorf("%+v", r)
	}
	conf = cl.Config("127.0.0.1")
	conf.MinVersion, conf.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if c, err := tls.Dial("tcp", ts.addr, conf); err == nil {
		c.Close()
		t.Error("TLS 1.1 accepted")
	}
	if r := ts.result(t); r.err == nil || ts.Stats().Failed(CauseOther) != 1 {
		t.Errorf("TLS 1.1: %v, stats %+v", r.err, ts.Stats())
	}
}

// refused checks that c, whose handshake may have looked complete to the client
// (TLS 1.3 sends the client's certificate last), cannot be used.
func refused(t *testing.T, c *tls.Conn, err error) {
	t.Helper()
	if err == nil {
		err = echo(c, "let me in")
	}
	if err == nil {
		t.Error("client served")
	}
}

func TestRefused(t *testing.T) {
	s := newSite(t)
	other := newSite(t)
	ts := startServer(t, s.issue(tlsgen.RoleServer, "rep-1"), 0)
	anon := Files{CA: s.caFile()}
	strange := other.issue(tlsgen.RoleAgent, "mallory")
	strange.CA = s.caFile() // it trusts the server, the server does not trust it
	server := s.issue(tlsgen.RoleServer, "not-a-client")
	roots, err := loadPool(s.caFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		files Files
		cause Cause
	}{
		{"no certificate", anon, CauseNoCertificate},
		{"another CA's", strange, CauseUnknownCA},
		{"a server's", server, CauseBadCertificate},
	} {
		before := ts.Stats().Failed(c.cause)
		conf := &tls.Config{ServerName: "127.0.0.1", RootCAs: roots}
		if c.files.Cert != "" { // presented as they are, whatever they are for
			pair, err := tls.LoadX509KeyPair(c.files.Cert, c.files.Key)
			if err != nil {
				t.Fatal(err)
			}
			conf.Certificates = []tls.Certificate{pair}
		}
		tc, err := tls.Dial("tcp", ts.addr, conf)
		if err == nil {
			t.Cleanup(func() { tc.Close() })
		}
		refused(t, tc, err)
		r := ts.result(t)
		if r.err == nil || r.ok {
			t.Errorf("%s: server side %+v", c.name, r)
		}
		if got := ts.Stats().Failed(c.cause); got != before+1 {
			t.Errorf("%s: %s failures %d, want %d (error %v; stats %+v)", c.name, c.cause, got, before+1, r.err, ts.Stats())
		}
	}
	if st := ts.Stats(); st.Handshakes != 0 {
		t.Errorf("%d handshakes completed", st.Handshakes)
	}
}

func TestPlaintextClient(t *testing.T) {
	s := newSite(t)
	ts := startServer(t, s.issue(tlsgen.RoleServer, "dns-1"), 0)
	for i, first := range []string{"\x00\x00\x00\x01\x00\x00\x00\x08", "GET / HTTP/1.1\r\n\r\n", "\x01"} {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, first); err != nil {
			t.Fatal(err)
		}
		r := ts.result(t)
		if !errors.Is(r.err, ErrPlaintext) {
			t.Errorf("%q: %v", first, r.err)
		}
		if n, err := c.Read(make([]byte, 64)); err == nil {
			t.Errorf("%q: answered %d bytes", first, n)
		}
		if got := ts.Stats().Failed(CausePlaintext); got != uint64(i+1) {
			t.Errorf("plaintext failures %d, want %d", got, i+1)
		}
	}
}

func TestHandshakeTimeout(t *testing.T) {
	s := newSite(t)
	ts := startServer(t, s.issue(tlsgen.RoleServer, "dns-1"), 50*time.Millisecond)
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte{0x16, 3}); err != nil { // a record begun, never ended
		t.Fatal(err)
	}
	if r := ts.result(t); r.err == nil || ts.Stats().Failed(CauseIncomplete) != 1 {
		t.Errorf("%v; stats %+v", r.err, ts.Stats())
	}
}

func TestServerWithoutCA(t *testing.T) {
	s := newSite(t)
	f := s.issue(tlsgen.RoleServer, "dns-1")
	f.CA = ""
	ts := startServer(t, f, 0)
	if ts.Mutual() {
		t.Error("Mutual without a CA")
	}
	c, err := dial(t, ts, Files{CA: s.caFile()})
	if err == nil {
		err = echo(c, "hi")
	}
	if err != nil {
		t.Fatal(err)
	}
	if r := ts.result(t); r.err != nil || r.ok {
		t.Errorf("server side %+v: an anonymous client has no identity", r)
	}
}

func TestClientVerifiesServer(t *testing.T) {
	s := newSite(t)
	other := newSite(t)
	ts := startServer(t, other.issue(tlsgen.RoleServer, "impostor"), 0)
	if _, err := dial(t, ts, s.issue(tlsgen.RoleAgent, "a")); err == nil {
		t.Error("a server of another CA accepted")
	}
	cl, err := NewClient(Files{CA: other.caFile()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", ts.addr, cl.Config("dns.example.com")) // a name it does not have
	if err == nil {
		c.Close()
		t.Error("a server certificate without the dialed name accepted")
	}
}

func TestLoadRefuses(t *testing.T) {
	s := newSite(t)
	agent := s.issue(tlsgen.RoleAgent, "a")
	server := s.issue(tlsgen.RoleServer, "s")
	garbage := s.dir + "/garbage.pem"
	if err := os.WriteFile(garbage, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f      Files
		server bool
		want   string
	}{
		{Files{Key: server.Key, CA: server.CA}, true, "-tls-cert"},
		{Files{Cert: server.Cert, CA: server.CA}, true, "-tls-key"},
		{Files{Cert: agent.Cert, Key: agent.Key}, true, "not for server authentication"},
		{Files{Cert: server.Cert, Key: server.Key}, false, "not for client authentication"},
		{Files{Cert: server.Cert, Key: agent.Key}, true, "private key does not match"},
		{Files{Cert: server.Cert, Key: server.Key, CA: garbage}, true, "no PEM certificate"},
		{Files{Cert: server.Cert, Key: server.Key, CA: server.Cert}, true, "not a CA's"},
		{Files{Cert: agent.Cert}, false, "-tls-key"},
		{Files{CA: s.dir + "/missing.pem"}, false, "no such file"},
	} {
		var err error
		if c.server {
			_, err = NewServer(c.f, 0)
		} else {
			_, err = NewClient(c.f)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.f, err, c.want)
		}
	}
}

func TestWriteMetrics(t *testing.T) {
	s := newSite(t)
	ts := startServer(t, s.issue(tlsgen.RoleServer, "dns-1"), 0)
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "plain\n")
	ts.result(t)
	var b strings.Builder
	ts.WriteMetrics(&b, "lars_dns")
	for _, want := range []string{
		"lars_dns_tls_handshakes_total 0\n",
		`lars_dns_tls_handshake_failures_total{cause="plaintext"} 1` + "\n",
		`lars_dns_tls_handshake_failures_total{cause="unknown_ca"} 0` + "\n",
		`lars_dns_tls_reloads_total{result="error"} 0` + "\n",
		"lars_dns_tls_cert_expiry_timestamp_seconds ",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}
