package vectors

import (
	"strings"
	"testing"
)

func TestAllVectorsParse(t *testing.T) {
	all := All()
	lars, ours := 0, 0
	for name := range all {
		if strings.HasPrefix(name, "ext_") {
			ours++
		} else {
			lars++
		}
	}
	if lars != 14 || ours != 15 {
		t.Fatalf("%d Lars vectors and %d of our extensions, want the 14 of the protocol and 15", lars, ours)
	}
	for name, f := range all {
		if len(f) < 8 {
			t.Errorf("%s: %d bytes, shorter than a header", name, len(f))
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"name", "name zz", "a 00\na 01"} {
		if _, err := parse(s); err == nil {
			t.Errorf("parse(%q) accepted", s)
		}
	}
}
