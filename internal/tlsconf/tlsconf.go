// Package tlsconf makes the TLS configurations of the Lars control-plane links from
// PEM files (-tls-cert, -tls-key, -tls-ca): a Server's for lars-dns, lars-reporter and
// lars-console, where a CA means mutual TLS, every client proving itself with a
// certificate the CA signed; and a Client's for lars-agent, where the CA verifies the
// services and the certificate is the agent's identity.
//
// Both reload their files on demand (Reload, on SIGHUP say): new handshakes use the new
// certificate and CA, connections already established keep going. No tls.Config is
// ever changed once in use: each load builds new ones, which callbacks reach through
// an atomic pointer. TLS 1.2 is the minimum; TLS 1.3 is used whenever both ends have it.
//
// Identity returns the verified peer of a connection, the subject common name of its
// certificate, and the certificate's role when tlsgen made it. A Server counts the
// handshakes it refused by cause, plaintext clients among them.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// MinVersion is the oldest TLS version either end accepts.
const MinVersion = tls.VersionTLS12

// Files names the PEM files of one end of a link: its certificate and private key (its
// identity) and the CA certificates it trusts. An empty name is not used.
type Files struct {
	Cert, Key, CA string
}

// Enabled reports whether any file is named: TLS is asked for.
func (f Files) Enabled() bool { return f.Cert != "" || f.Key != "" || f.CA != "" }

// material is what one load of Files read: the certificate with its key, nil for a
// client without one, and the CA pool, nil when no CA is named.
type material struct {
	cert *tls.Certificate
	pool *x509.CertPool
}

// load reads f. usage is what the certificate must be valid for; now is the time it
// must be valid at.
func load(f Files, usage x509.ExtKeyUsage, now time.Time) (*material, error) {
	if (f.Cert == "") != (f.Key == "") {
		return nil, errors.New("a TLS certificate needs its key, and a key its certificate: give both -tls-cert and -tls-key")
	}
	m := &material{}
	if f.Cert != "" {
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate %s, key %s: %w", f.Cert, f.Key, err)
		}
		if err := checkLeaf(cert.Leaf, usage, now); err != nil {
			return nil, fmt.Errorf("TLS certificate %s: %w", f.Cert, err)
		}
		m.cert = &cert
	}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, fmt.Errorf("TLS CA %s: %w", f.CA, err)
		}
		m.pool = pool
	}
	return m, nil
}

// checkLeaf returns an error unless c is valid at now for usage.
func checkLeaf(c *x509.Certificate, usage x509.ExtKeyUsage, now time.Time) error {
	if now.Before(c.NotBefore) {
		return fmt.Errorf("not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(c.NotAfter) {
		return fmt.Errorf("expired at %s", c.NotAfter.UTC().Format(time.RFC3339))
	}
	if len(c.ExtKeyUsage) > 0 && !slices.Contains(c.ExtKeyUsage, usage) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) {
		what := "server"
		if usage == x509.ExtKeyUsageClientAuth {
			what = "client"
		}
		return fmt.Errorf("not for %s authentication (larsctl tls cert create makes one that is)", what)
	}
	return nil
}

// loadPool reads the PEM certificates of file, every one of them a CA's.
func loadPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		if !c.IsCA {
			return nil, fmt.Errorf("certificate %q is not a CA's", c.Subject.CommonName)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return pool, nil
}
