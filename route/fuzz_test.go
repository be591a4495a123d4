package route

import (
	"strings"
	"testing"
)

// FuzzParseLine checks that a routes-file line never crashes the parser and that
// every accepted line survives formatting and parsing again unchanged.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"1 2 10.0.0.1 80", "1 2 ::1 80 weight=5 zone=a", "1 2 [::ffff:1.2.3.4] 80 # c",
		"0 0 0.0.0.0 1", "2147483647 1 255.255.255.255 65535 zone=Z_.-9", "1 2 fe80::1%e 80", "1 2 3 4 5 6 7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		k, h, ok, err := ParseLine(line)
		if err != nil || !ok {
			return
		}
		if err := h.Check(); err != nil {
			t.Fatalf("ParseLine(%q) accepted a host Check refuses: %v", line, err)
		}
		out := string(AppendLine(nil, k, h))
		k2, h2, ok2, err := ParseLine(out)
		if err != nil || !ok2 || k2 != k || h2 != h {
			t.Fatalf("%q -> %q -> %v %v %v %v", line, out, k2, h2, ok2, err)
		}
	})
}

// FuzzParseHostText checks the host text form the same way.
func FuzzParseHostText(f *testing.F) {
	for _, s := range []string{"10.0.0.1:80", "[::1]:80;weight=2;zone=a", "[::1]:80;zone=a;weight=2", "1.2.3.4:0", ";;", "[:]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHostText(s)
		if err != nil {
			return
		}
		if err := h.Check(); err != nil {
			t.Fatalf("ParseHostText(%q) accepted a host Check refuses: %v", s, err)
		}
		out := h.String()
		if strings.ContainsAny(out, " ,\t\n") {
			t.Fatalf("text form %q holds a separator", out)
		}
		h2, err := ParseHostText(out)
		if err != nil || h2 != h {
			t.Fatalf("%q -> %q -> %v, %v", s, out, h2, err)
		}
	})
}
