package api_test

import (
	"net/netip"
	"testing"

	"github.com/larsgo/lars/api"
)

func TestHost(t *testing.T) {
	f := func(s string, want api.Host) {
		t.Helper()
		h, err := api.ParseHost(s)
		if err != nil || h != want {
			t.Fatalf("ParseHost(%q) = %+v, %v; want %+v", s, h, err, want)
		}
		if h.String() != s {
			t.Errorf("String() = %q, want %q", h.String(), s)
		}
		if got, err := api.HostFromAddrPort(h.AddrPort()); err != nil || got != h {
			t.Errorf("HostFromAddrPort(AddrPort()) = %+v, %v", got, err)
		}
	}
	f("127.0.0.1:8080", api.Host{IP: 2130706433, Port: 8080})
	f("192.168.1.1:80", api.Host{IP: -1062731519, Port: 80})
	f("255.255.255.255:65535", api.Host{IP: -1, Port: 65535})
	f("0.0.0.0:0", api.Host{})

	for _, bad := range []string{"", "1.2.3.4", "[::1]:80", "host:80", "1.2.3.4:70000"} {
		if h, err := api.ParseHost(bad); err == nil {
			t.Errorf("ParseHost(%q) = %+v, want an error", bad, h)
		}
	}
	if _, err := api.HostFromAddrPort(netip.MustParseAddrPort("[2001:db8::1]:80")); err == nil {
		t.Error("HostFromAddrPort accepted IPv6")
	}
}
