package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readCert parses the PEM certificate in file.
func readCert(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", file)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkMode fails the test unless file's mode is 0600.
func checkMode(t *testing.T, file string) {
	t.Helper()
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %o, want 600", file, st.Mode().Perm())
	}
}

// makeCA runs tls ca create in a new directory and returns it.
func makeCA(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	code, out, errOut := larsctl(nil, "tls", "ca", "create", "-dir", dir, "-name", "Test CA", "-days", "30")
	check(t, code, out, errOut, 0, "-")
	return dir
}

func TestTLSCACreate(t *testing.T) {
	old := syscall.Umask(0o022) // a common umask: the files must still be 0600
	defer syscall.Umask(old)
	dir := makeCA(t)
	ca := readCert(t, filepath.Join(dir, "lars-ca.pem"))
	if !ca.IsCA || ca.MaxPathLen != 0 || !ca.MaxPathLenZero || ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("CA: IsCA %v, path length %d, usage %b", ca.IsCA, ca.MaxPathLen, ca.KeyUsage)
	}
	if ca.Subject.CommonName != "Test CA" || ca.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("CA subject %v, key %v", ca.Subject, ca.PublicKeyAlgorithm)
	}
	if d := time.Until(ca.NotAfter); d < 29*24*time.Hour || d > 30*24*time.Hour || time.Now().Before(ca.NotBefore) {
		t.Errorf("CA valid %v to %v", ca.NotBefore, ca.NotAfter)
	}
	for _, f := range []string{"lars-ca.pem", "lars-ca-key.pem"} {
		checkMode(t, filepath.Join(dir, f))
	}
	// Again: refused, one line, exit 1, files kept; with -force, replaced.
	code, out, errOut := larsctl(nil, "tls", "ca", "create", "-dir", dir)
	check(t, code, out, errOut, exitFailure, "")
	if !strings.Contains(errOut, "exists") || !readCert(t, filepath.Join(dir, "lars-ca.pem")).Equal(ca) {
		t.Errorf("second create: %s", errOut)
	}
	code, out, errOut = larsctl(nil, "tls", "ca", "create", "-dir", dir, "-force")
	check(t, code, out, errOut, 0, "-")
	if readCert(t, filepath.Join(dir, "lars-ca.pem")).Equal(ca) {
		t.Error("-force kept the old CA")
	}
}

func TestTLSCertCreate(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	caDir := makeCA(t)
	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, filepath.Join(caDir, "lars-ca.pem")))
	out := t.TempDir()
	for i, c := range []struct {
		flags []string
		role  string
		usage x509.ExtKeyUsage
		dns   []string
		ips   []string
	}{
		{[]string{"-server", "-dns", "dns.example.com", "-ip", "10.0.0.5,10.0.0.6"}, "server", x509.ExtKeyUsageServerAuth,
			[]string{"dns.example.com", "localhost"}, []string{"10.0.0.5", "10.0.0.6", "127.0.0.1", "::1"}},
		{[]string{"-server", "-loopback=false", "-dns", "a.example,b.example"}, "server", x509.ExtKeyUsageServerAuth,
			[]string{"a.example", "b.example"}, nil},
		{[]string{"-console"}, "console", x509.ExtKeyUsageServerAuth, []string{"localhost"}, []string{"127.0.0.1", "::1"}},
		{[]string{"-agent"}, "agent", x509.ExtKeyUsageClientAuth, nil, nil},
		{[]string{"-client", "-ip", "192.0.2.1"}, "client", x509.ExtKeyUsageClientAuth, nil, []string{"192.0.2.1"}},
	} {
		name := fmt.Sprintf("host-%d", i)
		dir := filepath.Join(out, name)
		args := append([]string{"tls", "cert", "create", "-ca-dir", caDir, "-name", name, "-days", "7", "-dir", dir}, c.flags...)
		code, stdout, errOut := larsctl(nil, args...)
		check(t, code, stdout, errOut, 0, "-")
		certFile, keyFile := filepath.Join(dir, c.role+"-"+name+".pem"), filepath.Join(dir, c.role+"-"+name+"-key.pem")
		checkMode(t, certFile)
		checkMode(t, keyFile)
		if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
			t.Errorf("%v: %v", c.flags, err)
		}
		l := readCert(t, certFile)
		if l.Subject.CommonName != name || !slices.Equal(l.Subject.OrganizationalUnit, []string{c.role}) {
			t.Errorf("%v: subject %v", c.flags, l.Subject)
		}
		if l.IsCA || l.KeyUsage != x509.KeyUsageDigitalSignature || !slices.Equal(l.ExtKeyUsage, []x509.ExtKeyUsage{c.usage}) {
			t.Errorf("%v: IsCA %v, usage %b, ext %v", c.flags, l.IsCA, l.KeyUsage, l.ExtKeyUsage)
		}
		var ips []string
		for _, ip := range l.IPAddresses {
			ips = append(ips, ip.String())
		}
		if !slices.Equal(l.DNSNames, c.dns) || !slices.Equal(ips, c.ips) {
			t.Errorf("%v: SANs %v %v, want %v %v", c.flags, l.DNSNames, ips, c.dns, c.ips)
		}
		if d := time.Until(l.NotAfter); d < 6*24*time.Hour || d > 7*24*time.Hour || time.Now().Before(l.NotBefore) {
			t.Errorf("%v: valid %v to %v", c.flags, l.NotBefore, l.NotAfter)
		}
		opts := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{c.usage}}
		if len(c.dns) > 0 {
			opts.DNSName = c.dns[0]
		}
		if _, err := l.Verify(opts); err != nil {
			t.Errorf("%v: does not verify against the CA: %v", c.flags, err)
		}
	}
}

func TestTLSCertCreateRefuses(t *testing.T) {
	caDir := makeCA(t)
	dir := t.TempDir()
	base := []string{"tls", "cert", "create", "-ca-dir", caDir, "-dir", dir}
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"-name", "a"}, exitUsage},                                  // no role
		{[]string{"-agent", "-server", "-name", "a"}, exitUsage},             // two
		{[]string{"-agent"}, exitUsage},                                      // no name
		{[]string{"-agent", "-name", "../a"}, exitUsage},                     // a name that is a path
		{[]string{"-agent", "-name", "a", "-days", "0"}, exitUsage},          // no validity
		{[]string{"-server", "-name", "a", "-dns", "not a name"}, exitUsage}, // bad SAN
		{[]string{"-server", "-name", "a", "-ip", "10.0.0"}, exitUsage},
		{[]string{"-server", "-name", "a", "-loopback=false"}, exitUsage}, // a server with no name
		{[]string{"-agent", "-name", "a", "extra"}, exitUsage},
		{[]string{"-agent", "-name", "a", "-days", "31"}, exitFailure},  // outlives the CA
		{[]string{"-agent", "-name", "a", "-ca-dir", dir}, exitFailure}, // no CA there
	} {
		code, out, errOut := larsctl(nil, append(slices.Clone(base), c.args...)...)
		check(t, code, out, errOut, c.want, "")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("refused commands wrote %d files", len(ents))
	}
	args := append(slices.Clone(base), "-agent", "-name", "a", "-days", "7")
	code, out, errOut := larsctl(nil, args...)
	check(t, code, out, errOut, 0, "-")
	first := readCert(t, filepath.Join(dir, "agent-a.pem"))
	code, out, errOut = larsctl(nil, args...)
	check(t, code, out, errOut, exitFailure, "")
	if !strings.Contains(errOut, "agent-a.pem exists") || !readCert(t, filepath.Join(dir, "agent-a.pem")).Equal(first) {
		t.Errorf("an existing certificate: %s", errOut)
	}
	code, out, errOut = larsctl(nil, append(args, "-force")...)
	check(t, code, out, errOut, 0, "-")
	if readCert(t, filepath.Join(dir, "agent-a.pem")).Equal(first) {
		t.Error("-force kept the old certificate")
	}
}
