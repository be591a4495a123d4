package api_test

import (
	"net/netip"
	"testing"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/route"
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
		if got, err := api.HostFromAddrPort(h.Addr); err != nil || got.Addr != h.Addr {
			t.Errorf("HostFromAddrPort(Addr) = %+v, %v", got, err)
		}
	}
	f("127.0.0.1:8080", route.FromWire(2130706433, 8080))
	f("192.168.1.1:80", route.FromWire(-1062731519, 80))
	f("255.255.255.255:65535", route.FromWire(-1, 65535))
	f("[2001:db8::1]:80", api.Host{Addr: netip.MustParseAddrPort("[2001:db8::1]:80")})
	f("10.0.0.1:80;weight=200;zone=eu-1", api.Host{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Weight: 200, Zone: "eu-1"})

	for _, bad := range []string{"", "1.2.3.4", "::1:80", "host:80", "1.2.3.4:70000", "1.2.3.4:0", "1.2.3.4:80;weight=0"} {
		if h, err := api.ParseHost(bad); err == nil {
			t.Errorf("ParseHost(%q) = %+v, want an error", bad, h)
		}
	}
	if h, err := api.HostFromAddrPort(netip.MustParseAddrPort("[::ffff:10.0.0.1]:80")); err != nil || h.Addr != netip.MustParseAddrPort("10.0.0.1:80") {
		t.Errorf("HostFromAddrPort of an IPv4-mapped address = %v, %v", h, err)
	}
	if _, err := api.HostFromAddrPort(netip.AddrPort{}); err == nil {
		t.Error("HostFromAddrPort accepted the zero address")
	}
}
