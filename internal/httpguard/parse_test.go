package httpguard

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParseHosts(t *testing.T) {
	got, err := ParseHosts(" Lars.Example.com., 10.0.0.1 ,,[::1],2001:db8::1,host_1 ")
	if want := []string{"lars.example.com", "10.0.0.1", "::1", "2001:db8::1", "host_1"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("ParseHosts = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"lars.example.com:8080", "a..b", "*.example.com", "http://x", "a b", strings.Repeat("a", 64) + ".com", "[10.0.0.1]:80"} {
		if _, err := ParseHosts(bad); err == nil {
			t.Errorf("ParseHosts(%q) succeeded", bad)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes("10.0.0.0/8, 127.0.0.1 ,::1,,192.168.1.7/24,::ffff:10.0.0.0/104")
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("10.0.0.0/8")}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ParsePrefixes = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "localhost", "10.0.0.0/8/8", "fe80::1%eth0", "::ffff:10.0.0.0/80"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("ParsePrefixes(%q) succeeded", bad)
		}
	}
}

// FuzzParseHosts: every name ParseHosts returns is normalized, and a list of them
// parses to itself.
func FuzzParseHosts(f *testing.F) {
	for _, s := range []string{"localhost", "a.b,c", "[::1],10.0.0.1", "A.B.", "x:80", ",,", "[", "]", "a..b", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hosts, err := ParseHosts(s)
		if err != nil {
			return
		}
		for _, h := range hosts {
			if h == "" || h != normalHost(h) || strings.ContainsAny(h, ", ") {
				t.Fatalf("ParseHosts(%q) gave %q", s, h)
			}
		}
		again, err := ParseHosts(strings.Join(hosts, ","))
		if err != nil || !slices.Equal(again, hosts) {
			t.Fatalf("ParseHosts(%q) = %q, which parses to %q, %v", s, hosts, again, err)
		}
	})
}

// FuzzParsePrefixes: every prefix ParsePrefixes returns is valid, masked and not an
// IPv4-mapped one, and their list parses to itself.
func FuzzParsePrefixes(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "::1", "127.0.0.1,::/0", "::ffff:1.2.3.4/120", "1.2.3.4/33", "", ",", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParsePrefixes(s)
		if err != nil {
			return
		}
		var texts []string
		for _, p := range ps {
			if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() {
				t.Fatalf("ParsePrefixes(%q) gave %v", s, p)
			}
			texts = append(texts, p.String())
		}
		again, err := ParsePrefixes(strings.Join(texts, ","))
		if err != nil || !slices.Equal(again, ps) {
			t.Fatalf("ParsePrefixes(%q) = %v, which parses to %v, %v", s, ps, again, err)
		}
	})
}

// FuzzForwarded: whatever a trusted proxy's forwarded headers say, the client is the
// proxy or an address the headers name, and never a trusted proxy unless every hop
// was one.
func FuzzForwarded(f *testing.F) {
	for _, s := range []string{`for=1.2.3.4;proto=https`, `for="[::1]:80", for=10.0.0.1`, `for=unknown`, `;;,=,"`, `FOR=5.6.7.8;PROTO=http`, `1.2.3.4, 10.0.0.2`} {
		f.Add(s, s)
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	g := &Guard{cfg: Config{TrustedProxies: trusted}}
	peer := netip.MustParseAddr("10.9.9.9")
	f.Fuzz(func(t *testing.T, fwd, xff string) {
		for _, h := range []http.Header{{"Forwarded": {fwd}}, {"X-Forwarded-For": {xff}, "X-Forwarded-Proto": {fwd}}} {
			ip, _ := g.forwardedClient(h, peer)
			if !ip.IsValid() || ip.Is4In6() {
				t.Fatalf("headers %v: client %v", h, ip)
			}
			if ip != peer && !strings.Contains(strings.ToLower(fwd+xff), strings.ToLower(ip.String())) && !strings.Contains(fwd+xff, ":") {
				t.Fatalf("headers %v: client %v named nowhere", h, ip)
			}
		}
	})
}
