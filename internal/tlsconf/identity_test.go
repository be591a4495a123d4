package tlsconf

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/tlsgen"
)

func TestPeerOf(t *testing.T) {
	for _, c := range []struct {
		subject pkix.Name
		want    Peer
		ok      bool
	}{
		{pkix.Name{CommonName: "agent-1", OrganizationalUnit: []string{"agent"}}, Peer{"agent-1", tlsgen.RoleAgent}, true},
		{pkix.Name{CommonName: "x", OrganizationalUnit: []string{"ops"}}, Peer{Name: "x"}, true},
		{pkix.Name{CommonName: "x", OrganizationalUnit: []string{"agent", "server"}}, Peer{Name: "x"}, true},
		{pkix.Name{CommonName: "x"}, Peer{Name: "x"}, true},
		{pkix.Name{OrganizationalUnit: []string{"agent"}}, Peer{}, false},
	} {
		p, ok := PeerOf(&x509.Certificate{Subject: c.subject})
		if p != c.want || ok != c.ok {
			t.Errorf("%v: %+v %v, want %+v %v", c.subject, p, ok, c.want, c.ok)
		}
	}
}

func TestIdentityNotTLS(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if p, ok := Identity(a); ok {
		t.Errorf("a pipe has identity %v", p)
	}
}

// wrapped is a connection wrapper as tcpserve's, reaching the TLS connection through
// NetConn.
type wrapped struct{ net.Conn }

func (w wrapped) NetConn() net.Conn { return w.Conn }

func TestIdentityThroughWrapper(t *testing.T) {
	s := newSite(t)
	ts := startServer(t, s.issue(tlsgen.RoleServer, "dns-1"), 0)
	c, err := dial(t, ts, s.issue(tlsgen.RoleAgent, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := Identity(wrapped{wrapped{c}}); !ok || p.String() != "server/dns-1" {
		t.Errorf("%v %v", p, ok)
	}
}

func TestPeerString(t *testing.T) {
	for _, c := range []struct {
		p    Peer
		want string
	}{
		{Peer{"agent-1", tlsgen.RoleAgent}, "agent/agent-1"},
		{Peer{"host.example_1", ""}, "host.example_1"},
		{Peer{"a b/c%", tlsgen.RoleClient}, "client/a%20b%2Fc%25"},
		{Peer{"é\n", ""}, "%C3%A9%0A"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
		if back, err := ParseIdentity(c.want); err != nil || back != c.p {
			t.Errorf("ParseIdentity(%q): %+v, %v", c.want, back, err)
		}
	}
	for _, s := range []string{"", "agent/", "boss/x", "a b", "a%2", "a%2f", "a%41", "a%ZZ", "agent/x/y", "%"} {
		if p, err := ParseIdentity(s); err == nil {
			t.Errorf("ParseIdentity(%q) = %+v", s, p)
		}
	}
}

// FuzzParseIdentity: what ParseIdentity accepts, String writes back as it was.
func FuzzParseIdentity(f *testing.F) {
	for _, s := range []string{"agent/a-1", "x", "client/a%20b", "a%2Fb", "%", "a%41", "server/", "boss/x", "agent/x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseIdentity(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Errorf("ParseIdentity(%q) = %+v, written %q", s, p, p.String())
		}
	})
}

// FuzzPeerString: any name and role make a form safe in a log line or a metric label,
// which ParseIdentity reads back as they were.
func FuzzPeerString(f *testing.F) {
	for _, c := range []struct{ name, role string }{{"agent-1", "agent"}, {"a b", ""}, {"\x00/\"%", "server"}, {"é", "ops"}} {
		f.Add(c.name, c.role)
	}
	f.Fuzz(func(t *testing.T, name, role string) {
		if name == "" {
			return // names no one: Identity reports none
		}
		p := Peer{Name: name}
		if r, err := tlsgen.ParseRole(role); err == nil {
			p.Role = r
		}
		s := p.String()
		if strings.ContainsAny(s, "\"\\ \n\r\t{}=,") {
			t.Errorf("%+v written %q", p, s)
		}
		back, err := ParseIdentity(s)
		if err != nil || back != p {
			t.Errorf("%+v written %q, read back %+v, %v", p, s, back, err)
		}
	})
}
