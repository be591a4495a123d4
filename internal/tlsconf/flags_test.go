package tlsconf

import (
	"flag"
	"testing"
)

func TestRegisterFlags(t *testing.T) {
	for _, server := range []bool{true, false} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		var f Files
		RegisterFlags(fs, &f, server)
		if err := fs.Parse([]string{"-tls-cert", "c", "-tls-key", "k", "-tls-ca", "a"}); err != nil {
			t.Fatal(err)
		}
		if f != (Files{"c", "k", "a"}) || !f.Enabled() || (Files{}).Enabled() {
			t.Errorf("server %v: %+v", server, f)
		}
	}
}
