package route

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseAddrForms(t *testing.T) {
	cases := map[string]string{
		"10.0.0.1":          "10.0.0.1",
		" 10.0.0.1 ":        "10.0.0.1",
		"2001:db8::1":       "2001:db8::1",
		"[2001:db8::1]":     "2001:db8::1",
		"::ffff:192.0.2.7":  "192.0.2.7",
		"[::ffff:10.1.2.3]": "10.1.2.3",
	}
	for in, want := range cases {
		a, err := ParseAddr(in)
		if err != nil || a.String() != want {
			t.Errorf("ParseAddr(%q) = %v, %v; want %s", in, a, err, want)
		}
	}
	for _, bad := range []string{"", "10.0.0", "host", "fe80::1%eth0", "[::1", "1.2.3.4.5"} {
		if _, err := ParseAddr(bad); !errors.Is(err, ErrBadHost) {
			t.Errorf("ParseAddr(%q) err = %v, want ErrBadHost", bad, err)
		}
	}
}

func TestParseAddrPort(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1:80":            "10.0.0.1:80",
		"[2001:db8::1]:8080":     "[2001:db8::1]:8080",
		"[::ffff:1.2.3.4]:65535": "1.2.3.4:65535",
	} {
		ap, err := ParseAddrPort(in)
		if err != nil || ap.String() != want {
			t.Errorf("ParseAddrPort(%q) = %v, %v; want %s", in, ap, err, want)
		}
	}
	for _, bad := range []string{"10.0.0.1", "10.0.0.1:0", "10.0.0.1:65536", "2001:db8::1:80", "[2001:db8::1]", ":80", "10.0.0.1:-1"} {
		if _, err := ParseAddrPort(bad); !errors.Is(err, ErrBadHost) {
			t.Errorf("ParseAddrPort(%q) err = %v, want ErrBadHost", bad, err)
		}
	}
}

func TestHostTextRoundTrip(t *testing.T) {
	for _, s := range []string{"10.0.0.1:80", "[2001:db8::1]:80;weight=250", "10.0.0.1:80;zone=sh-a", "[::1]:1;weight=10000;zone=z.1_b"} {
		h, err := ParseHostText(s)
		if err != nil {
			t.Fatalf("ParseHostText(%q): %v", s, err)
		}
		if got := h.String(); got != s {
			t.Errorf("String() = %q, want %q", got, s)
		}
		if err := h.Check(); err != nil {
			t.Errorf("Check(%s): %v", s, err)
		}
	}
	// Options in either order.
	h, err := ParseHostText("10.0.0.1:80;zone=a;weight=5")
	if err != nil || h.Weight != 5 || h.Zone != "a" {
		t.Fatalf("ParseHostText options reversed = %+v, %v", h, err)
	}
	for _, bad := range []string{"10.0.0.1:80;weight=0", "10.0.0.1:80;weight=10001", "10.0.0.1:80;weight=1;weight=2",
		"10.0.0.1:80;zone=", "10.0.0.1:80;zone=a b", "10.0.0.1:80;zone=" + strings.Repeat("z", MaxZoneLen+1), "10.0.0.1:80;color=red", "10.0.0.1:80;"} {
		if _, err := ParseHostText(bad); !errors.Is(err, ErrBadHost) {
			t.Errorf("ParseHostText(%q) err = %v, want ErrBadHost", bad, err)
		}
	}
}

func TestEffectiveWeight(t *testing.T) {
	if w := (Host{}).EffectiveWeight(); w != DefaultWeight {
		t.Fatalf("no weight = %d, want %d", w, DefaultWeight)
	}
	if w := (Host{Weight: 7}).EffectiveWeight(); w != 7 {
		t.Fatalf("weight 7 = %d", w)
	}
}

func TestParseHostList(t *testing.T) {
	hs, err := ParseHostList("10.0.0.2:80, 10.0.0.1:80;weight=3\n[::1]:9 10.0.0.2:80", 10)
	if err != nil || len(hs) != 3 {
		t.Fatalf("ParseHostList = %v, %v", hs, err)
	}
	if s := FormatHostList(hs); s != "10.0.0.2:80 10.0.0.1:80;weight=3 [::1]:9" {
		t.Fatalf("FormatHostList = %q", s)
	}
	if _, err := ParseHostList("10.0.0.1:80 10.0.0.1:80;weight=2", 0); err == nil {
		t.Fatal("a host listed twice with two weights was accepted")
	}
	if _, err := ParseHostList("10.0.0.1:80 10.0.0.2:80", 1); err == nil {
		t.Fatal("more hosts than max accepted")
	}
}

func TestCheckRefuses(t *testing.T) {
	for _, h := range []Host{
		{},
		{Addr: netip.MustParseAddrPort("10.0.0.1:0")},
		{Addr: netip.MustParseAddrPort("[::ffff:10.0.0.1]:80")},
		{Addr: netip.MustParseAddrPort("[fe80::1%eth0]:80")},
		{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Weight: MaxWeight + 1},
		{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Zone: "a/b"},
	} {
		if err := h.Check(); err == nil {
			t.Errorf("Check(%+v) = nil", h)
		}
	}
}
