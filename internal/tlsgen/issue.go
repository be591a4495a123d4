package tlsgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Pair is a certificate with its private key, as PEM.
type Pair struct {
	Cert    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte
}

// Request asks for a leaf certificate.
type Request struct {
	Role Role
	// Name is the holder's identity, the subject common name (see CheckName).
	Name string
	// DNSNames and IPs are the names the holder is reached by. A server or console
	// certificate needs at least one; a client's may have none.
	DNSNames []string
	IPs      []netip.Addr
	// Days is the validity from now; it must end before the CA's.
	Days int
}

// Loopback returns the names of this machine: DNS localhost and IPs 127.0.0.1 and ::1.
func Loopback() (dnsNames []string, ips []netip.Addr) {
	return []string{"localhost"}, []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
}

// Issue makes a certificate for req signed by ca, valid from now: ECDSA P-256, usable
// for digital signatures, for server authentication when the role serves and for client
// authentication otherwise, with the role as the subject's organizational unit.
func (ca *CA) Issue(req Request, now time.Time) (Pair, error) {
	tmpl, err := ca.template(req, now)
	if err != nil {
		return Pair{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return Pair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Pair{}, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return Pair{}, err
	}
	return Pair{Cert: cert, CertPEM: encodeCert(der), KeyPEM: keyPEM}, nil
}

// template checks req and returns the certificate it asks for, without its key.
func (ca *CA) template(req Request, now time.Time) (*x509.Certificate, error) {
	if _, err := ParseRole(string(req.Role)); err != nil {
		return nil, err
	}
	if err := CheckName(req.Name); err != nil {
		return nil, err
	}
	if err := checkDays(req.Days); err != nil {
		return nil, err
	}
	if req.Role.Serves() && len(req.DNSNames) == 0 && len(req.IPs) == 0 {
		return nil, fmt.Errorf("a %s certificate needs at least one DNS name or IP address its clients reach it by", req.Role)
	}
	for _, d := range req.DNSNames {
		if err := CheckDNSName(d); err != nil {
			return nil, err
		}
	}
	ips := make([]net.IP, 0, len(req.IPs))
	for _, a := range req.IPs {
		if !a.IsValid() || a.Zone() != "" {
			return nil, fmt.Errorf("IP address %q: want one without a zone", a)
		}
		ips = append(ips, net.IP(a.Unmap().AsSlice()))
	}
	notBefore, notAfter := validity(now, req.Days)
	if notAfter.After(ca.Cert.NotAfter) {
		return nil, fmt.Errorf("a validity of %d days ends after the CA's (%s): ask for fewer days, or make a new CA",
			req.Days, ca.Cert.NotAfter.UTC().Format(time.DateOnly))
	}
	if now.Before(ca.Cert.NotBefore) {
		return nil, errors.New("the CA is not valid yet: is the clock right?")
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:         req.Name,
			Organization:       []string{"Lars"},
			OrganizationalUnit: []string{string(req.Role)},
		},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           req.Role.extKeyUsages(),
		BasicConstraintsValid: true,
		DNSNames:              req.DNSNames,
		IPAddresses:           ips,
	}, nil
}
