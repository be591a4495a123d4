package upstream

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// TestRouteExtHelloAndDecode: the client's Hello says FEATURE_ROUTE_EXT (with
// FEATURE_UNSUBSCRIBE); the route's IPv6 host, weight and zone reach the table; a host
// whose ip6 is not 16 bytes, whose weight is over route.MaxWeight or whose zone is
// invalid is left out and counted, the others kept.
func TestRouteExtHelloAndDecode(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	svc := newExtService(t, true, featUnsub, 0)
	k := route.Key{Modid: 1, Cmdid: 2}
	w := h1
	w.Weight, w.Zone = 300, "eu-1a"
	v6 := route.Host{Addr: netip.MustParseAddrPort("[2001:db8::9]:8009"), Zone: "eu-1b"}
	mapped := route.Host{Addr: netip.MustParseAddrPort("10.0.0.3:8003")}
	m16 := netip.MustParseAddr("::ffff:10.0.0.3").As16()
	svc.setRoute(k, w, v6)
	svc.raw[k] = []*larspb.HostInfo{
		{Ip6: m16[:], Port: 8003},                   // IPv4-mapped: the IPv4 host
		{Ip6: []byte{1, 2, 3, 4}, Port: 8004},       // bad ip6
		{Ip: 10<<24 | 5, Port: 8005, Weight: 10001}, // weight over the maximum
		{Ip: 10<<24 | 6, Port: 8006, Zone: "a b"},   // bad zone
	}
	c, tbl, _ := newExtClient(svc.addr())
	run(t, c.Run)
	tbl.GetHost(k.Modid, k.Cmdid)
	want := route.Normalize([]route.Host{w, v6, mapped})
	eventually(t, "route applied", func() bool {
		ki, ok := tbl.Lookup(k.Modid, k.Cmdid)
		if !ok || len(ki.Hosts) != len(want) {
			return false
		}
		for i, h := range ki.Hosts {
			if h.Host != want[i] {
				return false
			}
		}
		return true
	})
	if n := c.Stats().BadHosts; n != 3 {
		t.Fatalf("%d bad hosts counted, want 3", n)
	}
	svc.mu.Lock()
	hellos := slices.Clone(svc.hellos)
	svc.mu.Unlock()
	ext := uint32(larspb.Feature_FEATURE_ROUTE_EXT)
	if len(hellos) == 0 || hellos[0] != featUnsub|ext {
		t.Fatalf("Hello features %v, want %d (FEATURE_UNSUBSCRIBE|FEATURE_ROUTE_EXT)", hellos, featUnsub|ext)
	}
}

func TestHostFromWire(t *testing.T) {
	v6 := netip.MustParseAddr("2001:db8::1").As16()
	for _, c := range []struct {
		in   *larspb.HostInfo
		want route.Host
		ok   bool
	}{
		{&larspb.HostInfo{Ip: 2130706433, Port: 7000}, route.FromWire(2130706433, 7000), true},
		{&larspb.HostInfo{Ip6: v6[:], Port: 7001, Weight: 100, Zone: "sh-a"},
			route.Host{Addr: netip.MustParseAddrPort("[2001:db8::1]:7001"), Weight: 100, Zone: "sh-a"}, true},
		{&larspb.HostInfo{Ip: 1, Port: 2, Weight: route.MaxWeight}, route.Host{Addr: route.AddrPortFromWire(1, 2), Weight: route.MaxWeight}, true},
		{nil, route.FromWire(0, 0), true},
		{&larspb.HostInfo{Ip6: v6[:15]}, route.Host{}, false},
		{&larspb.HostInfo{Ip6: make([]byte, 17)}, route.Host{}, false},
		{&larspb.HostInfo{Weight: route.MaxWeight + 1}, route.Host{}, false},
		{&larspb.HostInfo{Zone: "x/y"}, route.Host{}, false},
	} {
		got, err := HostFromWire(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("HostFromWire(%v) = %v, %v; want %v (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
}

// TestStatusSkipsIPv6: status reports carry the IPv4 hosts of a key only; a key whose
// hosts are all IPv6 sends nothing.
func TestStatusSkipsIPv6(t *testing.T) {
	v6 := netip.MustParseAddrPort("[2001:db8::1]:7000")
	e := statusEncoder{caller: 1}
	st := lb.Status{Modid: 1, Cmdid: 2, Hosts: []lb.HostStatus{{Host: v6, Succ: 1}, {Host: h1.Addr, Succ: 2}, {Host: v6, Err: 3}}}
	frames := e.appendStatus(nil, &st, 9)
	var want larspb.ReportStatusRequest
	want.Modid, want.Cmdid, want.Caller, want.Ts = 1, 2, 1, 9
	ip, port, _ := h1.Wire()
	want.Results = []*larspb.HostCallResult{{Ip: ip, Port: port, Succ: 2}}
	if w, _ := codec.AppendFrame(nil, codec.MsgReportStatusRequest, &want); string(frames) != string(w) {
		t.Fatalf("frames %x, want %x", frames, w)
	}
	only6 := lb.Status{Modid: 1, Cmdid: 2, Hosts: []lb.HostStatus{{Host: v6, Succ: 1}}}
	if f := e.appendStatus(nil, &only6, 9); len(f) != 0 {
		t.Fatalf("an IPv6-only status wrote %x", f)
	}
}
