package codec_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/larsgo/lars/codec"
)

func TestIPv4WireForm(t *testing.T) {
	cases := []struct {
		addr string
		wire int32
	}{
		{"0.0.0.0", 0},
		{"127.0.0.1", 2130706433},
		{"127.255.255.255", 0x7fffffff},
		{"128.0.0.0", -1 << 31},
		{"192.168.1.1", -1062731519},
		{"255.255.255.255", -1},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			got, err := codec.ParseIPv4(c.addr)
			if err != nil || got != c.wire {
				t.Fatalf("ParseIPv4 = %d, %v; want %d", got, err, c.wire)
			}
			if s := codec.FormatIPv4(c.wire); s != c.addr {
				t.Fatalf("FormatIPv4 = %s", s)
			}
			if s := string(codec.AppendIPv4([]byte("x"), c.wire)); s != "x"+c.addr {
				t.Fatalf("AppendIPv4 = %s", s)
			}
			mapped := netip.AddrFrom16(netip.MustParseAddr(c.addr).As16())
			if got, err := codec.IPv4FromAddr(mapped); err != nil || got != c.wire {
				t.Fatalf("IPv4FromAddr(mapped) = %d, %v", got, err)
			}
		})
	}
}

func TestIPv4Rejects(t *testing.T) {
	for _, s := range []string{"::1", "2001:db8::1", "1.2.3", "host", ""} {
		if _, err := codec.ParseIPv4(s); err == nil {
			t.Errorf("ParseIPv4(%q) accepted", s)
		}
	}
	if _, err := codec.IPv4FromAddr(netip.MustParseAddr("::1")); !errors.Is(err, codec.ErrNotIPv4) {
		t.Errorf("err = %v, want ErrNotIPv4", err)
	}
}

func TestAddrPortHost(t *testing.T) {
	ap := netip.MustParseAddrPort("192.168.1.1:8080")
	ip, port, err := codec.HostFromAddrPort(ap)
	if err != nil || ip != -1062731519 || port != 8080 {
		t.Fatalf("HostFromAddrPort = %d, %d, %v", ip, port, err)
	}
	if got := codec.AddrPortFromHost(ip, port); got != ap {
		t.Fatalf("AddrPortFromHost = %v", got)
	}
}
