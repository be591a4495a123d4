package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/larsgo/lars/internal/tlsgen"
)

// Peer is the verified identity of the other end of a connection.
type Peer struct {
	// Name is its certificate's subject common name, as written there.
	Name string
	// Role is its certificate's role: the subject's organizational unit when that is
	// one tlsgen gives, "" otherwise.
	Role tlsgen.Role
}

// Identity returns the verified peer of c, a TLS connection (a *Conn, a *tls.Conn, or
// a connection that wraps one and returns it from NetConn) whose handshake has ended.
// It reports false when c is not TLS, its handshake has not ended, the peer presented
// no certificate that was verified, or that certificate names no one.
func Identity(c net.Conn) (Peer, bool) {
	for range 8 { // wrappers are few; a loop of them ends
		if s, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok {
			return IdentityOf(s.ConnectionState())
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return Peer{}, false
		}
		c = u.NetConn()
	}
	return Peer{}, false
}

// IdentityOf returns the verified peer of a connection in state cs (an HTTP request's
// TLS, say), as Identity does.
func IdentityOf(cs tls.ConnectionState) (Peer, bool) {
	if !cs.HandshakeComplete || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return Peer{}, false
	}
	return PeerOf(cs.VerifiedChains[0][0])
}

// PeerOf returns the identity that certificate c names; false if it names no one (no
// common name).
func PeerOf(c *x509.Certificate) (Peer, bool) {
	if c.Subject.CommonName == "" {
		return Peer{}, false
	}
	p := Peer{Name: c.Subject.CommonName}
	if ou := c.Subject.OrganizationalUnit; len(ou) == 1 {
		if r, err := tlsgen.ParseRole(ou[0]); err == nil {
			p.Role = r
		}
	}
	return p, true
}

// String returns the peer's stable form for logs, metrics and RouteHistory: ROLE/NAME,
// or NAME without a role, where NAME is the name with every byte other than ASCII
// letters, digits, '.', '-' and '_' written %XX. Two peers have the same form only if
// they are the same; ParseIdentity reads it back.
func (p Peer) String() string {
	if p.Role == "" {
		return escapeName(p.Name)
	}
	return string(p.Role) + "/" + escapeName(p.Name)
}

// ParseIdentity reads the form that Peer.String writes.
func ParseIdentity(s string) (Peer, error) {
	var p Peer
	name := s
	if role, rest, ok := strings.Cut(s, "/"); ok {
		r, err := tlsgen.ParseRole(role)
		if err != nil {
			return Peer{}, fmt.Errorf("identity %q: %w", s, err)
		}
		p.Role, name = r, rest
	}
	n, err := unescapeName(name)
	if err != nil {
		return Peer{}, fmt.Errorf("identity %q: %w", s, err)
	}
	p.Name = n
	return p, nil
}

const upperHex = "0123456789ABCDEF"

// escapeName writes every byte of s that tlsgen.NameByte refuses as %XX.
func escapeName(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !tlsgen.NameByte(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; tlsgen.NameByte(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}

// unescapeName reverses escapeName, accepting only what it writes: a name that is not
// empty, with %XX (upper-case hex) for exactly the bytes it escapes.
func unescapeName(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty name")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if tlsgen.NameByte(c) {
			b.WriteByte(c)
			continue
		}
		if c != '%' || i+2 >= len(s) {
			return "", fmt.Errorf("byte %q at %d: want letters, digits, '.', '-', '_' and %%XX", c, i)
		}
		hi, lo := strings.IndexByte(upperHex, s[i+1]), strings.IndexByte(upperHex, s[i+2])
		if hi < 0 || lo < 0 {
			return "", fmt.Errorf("%q at %d: want %%XX, upper-case hex", s[i:i+3], i)
		}
		v := byte(hi<<4 | lo)
		if tlsgen.NameByte(v) {
			return "", fmt.Errorf("%q at %d: %q is written as itself", s[i:i+3], i, v)
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), nil
}
