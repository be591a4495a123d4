package codec_test

import (
	"net/netip"
	"testing"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

func TestHostAddrRoundTrip(t *testing.T) {
	for _, s := range []string{"127.0.0.1:7000", "192.168.1.1:8080", "[2001:db8::1]:7000", "[::1]:1"} {
		a := netip.MustParseAddrPort(s)
		var info pb.HostInfo
		var buf [16]byte
		codec.SetHostAddr(&info, &buf, a)
		if a.Addr().Is4() != (len(info.Ip6) == 0) || (!a.Addr().Is4() && info.Ip != 0) {
			t.Fatalf("%s: ip %d ip6 %x", s, info.Ip, info.Ip6)
		}
		if got, ok := codec.HostAddr(&info); !ok || got != a {
			t.Fatalf("%s: HostAddr = %v, %v", s, got, ok)
		}
	}
	mapped := netip.MustParseAddr("::ffff:10.0.0.1").As16()
	if got, ok := codec.HostAddr(&pb.HostInfo{Ip6: mapped[:], Port: 80}); !ok || got != netip.MustParseAddrPort("10.0.0.1:80") {
		t.Fatalf("mapped ip6 = %v, %v", got, ok)
	}
	if _, ok := codec.HostAddr(&pb.HostInfo{Ip6: []byte{1, 2, 3}}); ok {
		t.Fatal("a 3-byte ip6 accepted")
	}
}

func TestSetHostAddrZeroAllocs(t *testing.T) {
	var info pb.HostInfo
	var buf [16]byte
	a, b := netip.MustParseAddrPort("10.0.0.1:80"), netip.MustParseAddrPort("[2001:db8::1]:80")
	if n := testing.AllocsPerRun(100, func() {
		codec.SetHostAddr(&info, &buf, a)
		codec.SetHostAddr(&info, &buf, b)
		codec.HostAddr(&info)
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func TestSetHostExtensionOnlyWhenAsked(t *testing.T) {
	h := route.Host{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Weight: 200, Zone: "eu"}
	info := pb.HostInfo{Weight: 7, Zone: "stale"}
	var buf [16]byte
	codec.SetHost(&info, &buf, h, false)
	if info.Weight != 0 || info.Zone != "" || info.Ip == 0 || len(info.Ip6) != 0 {
		t.Fatalf("without ext: %+v, want Lars's HostInfo", &info)
	}
	codec.SetHost(&info, &buf, h, true)
	if info.Weight != 200 || info.Zone != "eu" {
		t.Fatalf("with ext: %+v", &info)
	}
}
