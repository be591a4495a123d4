package lb

import (
	"net/netip"
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/route"
)

var (
	six1 = route.Host{Addr: netip.MustParseAddrPort("[2001:db8::1]:80")}
	six2 = route.Host{Addr: netip.MustParseAddrPort("[2001:db8::2]:80")}
)

func TestIPv6HostsOnlyForClientsThatTakeThem(t *testing.T) {
	tbl := newTableOf(t, Config{Clock: newFakeClock().Now, Static: true}, six1, weighted(1, 0, ""), six2, weighted(2, 0, ""))
	all, _ := shares(t, tbl, 400, true)
	wantShares(t, all, map[Host]float64{six1.Addr: 0.25, six2.Addr: 0.25, hostN(1): 0.25, hostN(2): 0.25}, 1e-9)
	v4, refused := shares(t, tbl, 400, false)
	if refused != 0 {
		t.Fatalf("%d IPv4-only calls refused", refused)
	}
	wantShares(t, v4, map[Host]float64{hostN(1): 0.5, hostN(2): 0.5}, 1e-9)

	if r := tbl.GetRouteFrom(tmod, tcmd, nil, nil, false); len(r) != 2 || !r[0].Is4() || !r[1].Is4() {
		t.Fatalf("IPv4-only route = %v", r)
	}
	if r := tbl.GetRoute(tmod, tcmd, nil); len(r) != 4 || r[2] != six1 || r[3] != six2 {
		t.Fatalf("route = %v, want IPv4 then IPv6 in address order", r)
	}
	// Reports name IPv6 hosts by address.
	tbl.Report(tmod, tcmd, six1.Addr, 1)
	if hostInfo(t, tbl, six1.Addr).RErr != 1 {
		t.Fatal("report of an IPv6 host not counted")
	}
}

func TestIPv6OnlyKeyAnswersNoExistToIPv4Clients(t *testing.T) {
	tbl := newTableOf(t, Config{Clock: newFakeClock().Now, Static: true}, six1)
	if h, ret := tbl.GetHostFrom(tmod, tcmd, nil, false); ret != codec.RetNoExist {
		t.Fatalf("IPv4-only client got %v %v, want RetNoExist", h, ret)
	}
	if r := tbl.GetRouteFrom(tmod, tcmd, nil, nil, false); len(r) != 0 {
		t.Fatalf("IPv4-only route = %v, want none", r)
	}
	if h, ret := tbl.GetHost(tmod, tcmd); ret != codec.RetSucc || h != six1.Addr {
		t.Fatalf("IPv6 client got %v %v", h, ret)
	}
}

func TestIPv4ClientProbesOnlyIPv4Hosts(t *testing.T) {
	tbl := newTableOf(t, Config{Clock: newFakeClock().Now, Static: true}, six1, weighted(1, 0, ""), weighted(2, 0, ""))
	overload(t, tbl, six1.Addr)
	overload(t, tbl, hostN(1))
	for i := range 200 {
		h, ret := tbl.GetHostFrom(tmod, tcmd, nil, false)
		if ret != codec.RetSucc || !h.Addr().Is4() {
			t.Fatalf("call %d: IPv4-only client got %v %v", i, h, ret)
		}
	}
}
