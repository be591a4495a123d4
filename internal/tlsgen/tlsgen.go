// Package tlsgen makes the certificates of a Lars site: a site CA (ECDSA P-256,
// self-signed, allowed to sign leaf certificates only) and leaf certificates for the
// site's servers (lars-dns, lars-reporter), consoles, agents and other clients, each
// naming its holder's identity in its subject. larsctl tls uses it; tests use it to
// make real certificates.
//
// Certificates and keys are PEM files written with mode 0600, whatever the umask, and
// never over an existing file unless asked to.
package tlsgen

import (
	"crypto/rand"
	"math/big"
	"time"
)

// Default validities, in days.
const (
	DefaultCADays   = 5 * 365
	DefaultCertDays = 365
	// MaxDays bounds any validity: a hundred years.
	MaxDays = 100 * 365
)

// backdate is how long before now a certificate becomes valid, so that a peer whose
// clock runs a little behind accepts it at once.
const backdate = time.Minute

// validity returns the NotBefore and NotAfter of a certificate valid for days from now.
func validity(now time.Time, days int) (notBefore, notAfter time.Time) {
	now = now.UTC().Truncate(time.Second)
	return now.Add(-backdate), now.AddDate(0, 0, days)
}

// serialNumber returns a random positive 128-bit serial number.
func serialNumber() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, err
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}
