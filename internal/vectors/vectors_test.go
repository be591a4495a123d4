package vectors

import "testing"

func TestAllVectorsParse(t *testing.T) {
	all := All()
	if len(all) != 14 {
		t.Fatalf("%d vectors, want the 14 of the protocol", len(all))
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
