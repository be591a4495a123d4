package tlsgen

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the longest identity or CA name: the upper bound RFC 5280 sets on a
// subject's common name.
const MaxNameLen = 64

// CheckName returns an error unless s can name a leaf certificate's holder: 1 to 64
// ASCII letters, digits, '.', '-' and '_', starting with a letter or digit. Such a
// name is the holder's identity (its subject common name) and, safely, part of the
// names of its files.
func CheckName(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	if len(s) > MaxNameLen {
		return fmt.Errorf("name of %d bytes: at most %d", len(s), MaxNameLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !NameByte(c) || (i == 0 && (c == '.' || c == '-' || c == '_')) {
			return fmt.Errorf("name %q: want ASCII letters, digits, '.', '-' and '_', starting with a letter or digit", s)
		}
	}
	return nil
}

// NameByte reports whether c may appear in a name that CheckName accepts.
func NameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_'
}

// CheckCAName returns an error unless s can name a CA: 1 to 64 bytes of printable
// UTF-8, not beginning or ending with a space. It is only shown, so it is freer than
// a holder's name.
func CheckCAName(s string) error {
	if s == "" || len(s) > MaxNameLen {
		return fmt.Errorf("CA name of %d bytes: want 1 to %d", len(s), MaxNameLen)
	}
	if !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return fmt.Errorf("CA name %q: not UTF-8, or begins or ends with a space", s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("CA name %q: holds an unprintable character", s)
		}
	}
	return nil
}

// CheckDNSName returns an error unless s is a host name a certificate can carry:
// labels of ASCII letters, digits and '-' (not first or last), 1 to 63 bytes each,
// 253 bytes in all; a first label "*" makes a wildcard name.
func CheckDNSName(s string) error {
	if s == "" || len(s) > 253 {
		return fmt.Errorf("DNS name %q: want 1 to 253 bytes", s)
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return fmt.Errorf("DNS name %q is an IP address: give it as an IP", s)
	}
	labels := strings.Split(s, ".")
	for i, l := range labels {
		if i == 0 && l == "*" && len(labels) > 1 {
			continue
		}
		if !dnsLabel(l) {
			return fmt.Errorf("DNS name %q: label %q is not 1 to 63 letters, digits and inner '-'", s, l)
		}
	}
	return nil
}

// dnsLabel reports whether l is a host name label.
func dnsLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
