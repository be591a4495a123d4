package larsconf

import "testing"

// TestTLSSection: [tls] cert, key and ca are read as written; a file without the
// section leaves TLS off.
func TestTLSSection(t *testing.T) {
	c, err := Parse([]byte("[reactor]\nport = 7778\n[tls]\ncert = /etc/lars/dns.pem\nkey = dns-key.pem\nca = /etc/lars/ca.pem\n"), "t.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := TLS{Present: true, Cert: "/etc/lars/dns.pem", Key: "dns-key.pem", CA: "/etc/lars/ca.pem"}
	if c.TLS != want || !c.Has(SectionTLS, "ca") {
		t.Fatalf("TLS %+v, want %+v", c.TLS, want)
	}
	if c, err = Parse([]byte("[reactor]\nport = 7778\n"), "t.conf"); err != nil || c.TLS.Present {
		t.Fatalf("no [tls]: %+v, %v", c.TLS, err)
	}
}
