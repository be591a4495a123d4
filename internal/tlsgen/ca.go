package tlsgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The files of a site CA in its directory.
const (
	CACertFile = "lars-ca.pem"
	CAKeyFile  = "lars-ca-key.pem"
)

// DefaultCAName is the subject common name of a CA made without a name.
const DefaultCAName = "Lars site CA"

// CA is a site CA: its certificate and its signing key.
type CA struct {
	Cert    *x509.Certificate
	CertPEM []byte
	key     *ecdsa.PrivateKey
}

// NewCA makes a CA called name (see CheckCAName), valid for days from now: a
// self-signed ECDSA P-256 certificate that may sign leaf certificates only (path
// length 0).
func NewCA(name string, days int, now time.Time) (*CA, Pair, error) {
	if err := CheckCAName(name); err != nil {
		return nil, Pair{}, err
	}
	if err := checkDays(days); err != nil {
		return nil, Pair{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, Pair{}, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, Pair{}, err
	}
	notBefore, notAfter := validity(now, days)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Lars"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, Pair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, Pair{}, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, Pair{}, err
	}
	ca := &CA{Cert: cert, CertPEM: encodeCert(der), key: key}
	return ca, Pair{Cert: cert, CertPEM: ca.CertPEM, KeyPEM: keyPEM}, nil
}

// LoadCA reads the CA in dir: CACertFile and CAKeyFile.
func LoadCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	return ParseCA(certPEM, keyPEM)
}

// ParseCA returns the CA of a PEM certificate and its PEM ECDSA private key.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := decodeCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("certificate %q is not a CA's", cert.Subject.CommonName)
	}
	key, err := decodeKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, errors.New("the CA key does not match the CA certificate")
	}
	return &CA{Cert: cert, CertPEM: encodeCert(cert.Raw), key: key}, nil
}

// checkDays returns an error unless days is a validity that can be asked for.
func checkDays(days int) error {
	if days < 1 || days > MaxDays {
		return fmt.Errorf("validity of %d days: want 1 to %d", days, MaxDays)
	}
	return nil
}
