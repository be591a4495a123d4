package batchio_test

import (
	"net/netip"
	"testing"

	"github.com/larsgo/lars/internal/batchio"
)

func TestSockAddr(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"v4", "127.0.0.1:7777", "127.0.0.1:7777"},
		{"v6", "[2001:db8::1]:65535", "[2001:db8::1]:65535"},
		{"v4-mapped", "[::ffff:10.0.0.1]:53", "10.0.0.1:53"},
		{"zone dropped", "[fe80::1%eth0]:1", "[fe80::1]:1"},
		{"port zero", "0.0.0.0:0", "0.0.0.0:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a batchio.SockAddr
			a.SetAddrPort(netip.MustParseAddrPort(tc.in))
			if !a.IsValid() {
				t.Fatal("not valid after SetAddrPort")
			}
			if got := a.AddrPort().String(); got != tc.want {
				t.Errorf("AddrPort() = %s, want %s", got, tc.want)
			}
			b := a // a plain copy carries the address
			if b.AddrPort() != a.AddrPort() {
				t.Error("copy differs")
			}
		})
	}
	var a batchio.SockAddr
	if a.IsValid() || a.AddrPort().IsValid() {
		t.Error("zero SockAddr is valid")
	}
	a.SetAddrPort(netip.MustParseAddrPort("1.2.3.4:5"))
	a.SetAddrPort(netip.AddrPort{})
	if a.IsValid() {
		t.Error("SetAddrPort(invalid) kept an address")
	}
}
