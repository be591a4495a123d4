package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
)

// Cause is why a server refused a handshake.
type Cause int

// The causes of a refused handshake.
const (
	// CausePlaintext is a client speaking something else than TLS, plain Lars framing
	// say: its first byte is not that of a TLS handshake record (0x16).
	CausePlaintext Cause = iota
	// CauseNoCertificate is a client without a certificate, where one is required.
	CauseNoCertificate
	// CauseUnknownCA is a client whose certificate the CA did not sign.
	CauseUnknownCA
	// CauseBadCertificate is a client certificate the CA signed that is not valid:
	// expired, or not for client authentication.
	CauseBadCertificate
	// CauseIncomplete is a client gone, or silent, before the handshake ended.
	CauseIncomplete
	// CauseOther is any other failure: no common TLS version or cipher, a malformed
	// message.
	CauseOther
	numCauses
)

// Causes lists every cause.
var Causes = []Cause{CausePlaintext, CauseNoCertificate, CauseUnknownCA, CauseBadCertificate, CauseIncomplete, CauseOther}

var causeNames = [numCauses]string{"plaintext", "no_certificate", "unknown_ca", "bad_certificate", "incomplete", "other"}

// String returns the cause's name as a metric label: plaintext, no_certificate,
// unknown_ca, bad_certificate, incomplete or other.
func (c Cause) String() string {
	if c < 0 || c >= numCauses {
		return "other"
	}
	return causeNames[c]
}

// ErrPlaintext is the handshake error of a client whose first byte is not that of a
// TLS handshake record.
var ErrPlaintext = errors.New("tls: client does not speak TLS (plaintext on a TLS port)")

// tlsRecordHandshake is the first byte of every TLS client's first record.
const tlsRecordHandshake = 0x16

// classify returns the cause of a server's handshake error.
func classify(err error) Cause {
	var unknownCA x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrPlaintext):
		return CausePlaintext
	case errors.As(err, &unknownCA):
		return CauseUnknownCA
	case errors.As(err, &verify):
		return CauseBadCertificate
	case strings.Contains(err.Error(), "didn't provide a certificate"): // crypto/tls has no error value for it
		return CauseNoCertificate
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.As(err, &netErr) && netErr.Timeout():
		return CauseIncomplete
	}
	return CauseOther
}
