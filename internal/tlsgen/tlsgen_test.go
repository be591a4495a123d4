package tlsgen

import (
	"crypto/x509"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func newCA(t *testing.T) *CA {
	t.Helper()
	ca, _, err := NewCA(DefaultCAName, DefaultCADays, now)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestNewCA(t *testing.T) {
	ca, pair, err := NewCA("Example CA", 10, now)
	if err != nil {
		t.Fatal(err)
	}
	c := ca.Cert
	if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("IsCA %v, MaxPathLen %d (zero %v)", c.IsCA, c.MaxPathLen, c.MaxPathLenZero)
	}
	if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("key usage %b", c.KeyUsage)
	}
	if c.Subject.CommonName != "Example CA" || c.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("subject %v, key %v", c.Subject, c.PublicKeyAlgorithm)
	}
	if c.CheckSignatureFrom(c) != nil {
		t.Error("not self-signed")
	}
	if !c.NotAfter.Equal(now.AddDate(0, 0, 10)) || c.NotBefore.After(now) {
		t.Errorf("valid %v to %v", c.NotBefore, c.NotAfter)
	}
	back, err := ParseCA(pair.CertPEM, pair.KeyPEM)
	if err != nil || !back.Cert.Equal(c) {
		t.Fatalf("ParseCA: %v", err)
	}
}

func TestIssue(t *testing.T) {
	ca := newCA(t)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, c := range []struct {
		role  Role
		usage x509.ExtKeyUsage
	}{{RoleServer, x509.ExtKeyUsageServerAuth}, {RoleConsole, x509.ExtKeyUsageServerAuth},
		{RoleAgent, x509.ExtKeyUsageClientAuth}, {RoleClient, x509.ExtKeyUsageClientAuth}} {
		dns, ips := Loopback()
		p, err := ca.Issue(Request{Role: c.role, Name: "host-1.a", DNSNames: append(dns, "dns.example.com"), IPs: append(ips, netip.MustParseAddr("10.1.2.3")), Days: 30}, now)
		if err != nil {
			t.Fatal(err)
		}
		l := p.Cert
		if l.Subject.CommonName != "host-1.a" || !slices.Equal(l.Subject.OrganizationalUnit, []string{string(c.role)}) {
			t.Errorf("%s: subject %v", c.role, l.Subject)
		}
		if l.IsCA || l.KeyUsage != x509.KeyUsageDigitalSignature || !slices.Equal(l.ExtKeyUsage, []x509.ExtKeyUsage{c.usage}) {
			t.Errorf("%s: IsCA %v, usage %b, ext %v", c.role, l.IsCA, l.KeyUsage, l.ExtKeyUsage)
		}
		if !slices.Equal(l.DNSNames, []string{"localhost", "dns.example.com"}) || len(l.IPAddresses) != 3 || l.IPAddresses[2].String() != "10.1.2.3" {
			t.Errorf("%s: SANs %v %v", c.role, l.DNSNames, l.IPAddresses)
		}
		if !l.NotAfter.Equal(now.AddDate(0, 0, 30)) || l.NotBefore.After(now) {
			t.Errorf("%s: valid %v to %v", c.role, l.NotBefore, l.NotAfter)
		}
		opts := x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{c.usage}}
		if c.usage == x509.ExtKeyUsageServerAuth {
			opts.DNSName = "127.0.0.1"
		}
		if _, err := l.Verify(opts); err != nil {
			t.Errorf("%s: %v", c.role, err)
		}
		other := x509.ExtKeyUsageServerAuth + x509.ExtKeyUsageClientAuth - c.usage
		opts.KeyUsages = []x509.ExtKeyUsage{other}
		if _, err := l.Verify(opts); err == nil {
			t.Errorf("%s: verifies for %v too", c.role, other)
		}
	}
}

func TestIssueRefuses(t *testing.T) {
	ca := newCA(t)
	for _, req := range []Request{
		{Role: "boss", Name: "a", Days: 1},
		{Role: RoleAgent, Name: "", Days: 1},
		{Role: RoleAgent, Name: "../x", Days: 1},
		{Role: RoleAgent, Name: "a", Days: 0},
		{Role: RoleAgent, Name: "a", Days: DefaultCADays + 1}, // outlives the CA
		{Role: RoleServer, Name: "a", Days: 1},                // no SAN
		{Role: RoleServer, Name: "a", Days: 1, DNSNames: []string{"bad_name"}},
		{Role: RoleServer, Name: "a", Days: 1, DNSNames: []string{"10.0.0.1"}},
		{Role: RoleServer, Name: "a", Days: 1, IPs: []netip.Addr{netip.MustParseAddr("fe80::1%eth0")}},
	} {
		if _, err := ca.Issue(req, now); err == nil {
			t.Errorf("%+v: issued", req)
		}
	}
}

func TestWritePair(t *testing.T) {
	old := syscall.Umask(0o277) // even one that takes the owner's write bit
	defer syscall.Umask(old)
	ca := newCA(t)
	p, err := ca.Issue(Request{Role: RoleAgent, Name: "a1", Days: 1}, now)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "new")
	cf, kf := CertFiles(RoleAgent, "a1")
	cert, key := filepath.Join(dir, cf), filepath.Join(dir, kf)
	if cf != "agent-a1.pem" || kf != "agent-a1-key.pem" {
		t.Errorf("files %s %s", cf, kf)
	}
	if err := WritePair(p, cert, key, false); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{cert, key} {
		st, err := os.Stat(f)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v", f, err, st.Mode())
		}
	}
	p2, err := ca.Issue(Request{Role: RoleAgent, Name: "a1", Days: 1}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePair(p2, cert, key, false); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), cert) {
		t.Errorf("over existing files: %v", err)
	}
	if b, _ := os.ReadFile(cert); string(b) != string(p.CertPEM) {
		t.Error("certificate overwritten without force")
	}
	os.Remove(cert) // the key alone still stops a write
	if err := WritePair(p2, cert, key, false); !errors.Is(err, ErrExists) {
		t.Errorf("over an existing key: %v", err)
	}
	if _, err := os.Stat(cert); err == nil {
		t.Error("certificate written beside a key it does not match")
	}
	if err := WritePair(p2, cert, key, true); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string][]byte{cert: p2.CertPEM, key: p2.KeyPEM} {
		b, _ := os.ReadFile(f)
		st, _ := os.Stat(f)
		if string(b) != string(want) || st.Mode().Perm() != 0o600 {
			t.Errorf("%s after -force: mode %v, replaced %v", f, st.Mode(), string(b) == string(want))
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("%d files in the directory, want 2", len(ents))
	}
}
