// Package tlstest makes real certificates for tests: a site CA in a temporary
// directory, and server, agent and client certificates signed by it, written by
// internal/tlsgen as `larsctl tls` writes them.
package tlstest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/internal/tlsgen"
)

// Site is a CA in a directory that issues certificates there.
type Site struct {
	// Dir holds the CA's files and every pair issued.
	Dir string
	t   testing.TB
	ca  *tlsgen.CA
}

// NewSite makes a CA called name in a new temporary directory.
func NewSite(t testing.TB, name string) *Site {
	t.Helper()
	dir := t.TempDir()
	ca, pair, err := tlsgen.NewCA(name, 30, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := tlsgen.WritePair(pair, filepath.Join(dir, tlsgen.CACertFile), filepath.Join(dir, tlsgen.CAKeyFile), false); err != nil {
		t.Fatal(err)
	}
	return &Site{Dir: dir, t: t, ca: ca}
}

// CA is the CA certificate's file.
func (s *Site) CA() string { return filepath.Join(s.Dir, tlsgen.CACertFile) }

// Issue makes a certificate of role for name, valid for a week (a server's names the
// loopback addresses and localhost), writes it over any pair of the same role and name,
// and returns its files with the CA's.
func (s *Site) Issue(role tlsgen.Role, name string) tlsconf.Files {
	s.t.Helper()
	req := tlsgen.Request{Role: role, Name: name, Days: 7}
	if role.Serves() {
		req.DNSNames, req.IPs = tlsgen.Loopback()
	}
	pair, err := s.ca.Issue(req, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	cf, kf := tlsgen.CertFiles(role, name)
	f := tlsconf.Files{Cert: filepath.Join(s.Dir, cf), Key: filepath.Join(s.Dir, kf), CA: s.CA()}
	if err := tlsgen.WritePair(pair, f.Cert, f.Key, true); err != nil {
		s.t.Fatal(err)
	}
	return f
}

// Server issues a server certificate for name and returns a TLS server end on it that
// asks every client for a certificate of the site (mutual TLS).
func (s *Site) Server(name string) *tlsconf.Server {
	s.t.Helper()
	srv, err := tlsconf.NewServer(s.Issue(tlsgen.RoleServer, name), 0)
	if err != nil {
		s.t.Fatal(err)
	}
	return srv
}
