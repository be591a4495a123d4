package tlsgen

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, s := range []string{"a", "agent-7", "dns1.example.com", "A_b.C-9", strings.Repeat("x", 64)} {
		if err := CheckName(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", ".", "..", "-a", "_a", ".a", "a/b", "a b", "é", "a\x00", strings.Repeat("x", 65)} {
		if CheckName(s) == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestCheckCAName(t *testing.T) {
	for _, s := range []string{"Lars site CA", "Société CA"} {
		if err := CheckCAName(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", " a", "a ", "a\nb", "\xff", strings.Repeat("x", 65)} {
		if CheckCAName(s) == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestCheckDNSName(t *testing.T) {
	for _, s := range []string{"localhost", "a.b-c.example", "*.example.com", "x1"} {
		if err := CheckDNSName(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "a..b", "-a", "a-", "a_b", "*", "a.*.b", "10.0.0.1", "::1", "a b", strings.Repeat("a", 64)} {
		if CheckDNSName(s) == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzCheckName: a name CheckName accepts is safe in a file name and fits a common
// name; CheckCAName accepts it too.
func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"a", "agent-1", "..", "a/b", "é", "a\x00b", strings.Repeat("z", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckName(s) != nil {
			return
		}
		cert, key := CertFiles(RoleAgent, s)
		for _, p := range []string{cert, key} {
			if filepath.Base(p) != p || filepath.Clean(p) != p || strings.HasPrefix(p, ".") {
				t.Errorf("%q makes file name %q", s, p)
			}
		}
		if len(s) > MaxNameLen || CheckCAName(s) != nil {
			t.Errorf("%q: %d bytes, CA name check %v", s, len(s), CheckCAName(s))
		}
	})
}

// FuzzCheckDNSName: a DNS name CheckDNSName accepts is ASCII without spaces and not
// an IP address.
func FuzzCheckDNSName(f *testing.F) {
	for _, s := range []string{"localhost", "*.a.b", "1.2.3.4", "a..b", "a_b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckDNSName(s) != nil {
			return
		}
		for i := 0; i < len(s); i++ {
			if s[i] <= ' ' || s[i] >= 0x7f {
				t.Fatalf("%q accepted", s)
			}
		}
	})
}
