package agent_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// The route extension (docs/PROTOCOL.md "Routes beyond Lars"): IPv6 hosts, weights and
// zones go only to requests with ACCEPT_ROUTE_EXT; any other request gets Lars's frames.

const accept = uint32(pb.Accept_ACCEPT_ROUTE_EXT)

var (
	v6a = route.Host{Addr: netip.MustParseAddrPort("[2001:db8::1]:7000")}
	v6b = route.Host{Addr: netip.MustParseAddrPort("[2001:db8::2]:7001"), Weight: 300, Zone: "z-6"}
)

// mixedRoutes: key (1,1) has the three golden IPv4 hosts, with weights and zones, and
// two IPv6 hosts; key (2,2) has IPv6 hosts only.
func mixedRoutes() map[route.Key][]route.Host {
	g := goldenRoutes()[route.Key{Modid: 1, Cmdid: 1}]
	g[0].Weight, g[0].Zone = 200, "sh-a"
	g[2].Zone = "sh-b"
	return map[route.Key][]route.Host{
		{Modid: 1, Cmdid: 1}: append(g, v6a, v6b),
		{Modid: 2, Cmdid: 2}: {v6a, v6b},
	}
}

func (c *client) getHostAccept(seq uint32, modid, cmdid int32, acc uint32) *pb.GetHostResponse {
	c.t.Helper()
	id, body := c.roundTrip(frameOf(c.t, codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: seq, Modid: modid, Cmdid: cmdid, Accept: acc}))
	var m pb.GetHostResponse
	if id != codec.MsgGetHostResponse || m.UnmarshalVT(body) != nil || m.Seq != seq {
		c.t.Fatalf("answer %d %x to get_host %d", id, body, seq)
	}
	return &m
}

func (c *client) getRouteAccept(modid, cmdid int32, acc uint32) *pb.GetRouteResponse {
	c.t.Helper()
	id, body := c.roundTrip(frameOf(c.t, codec.MsgAPIGetRouteRequest, &pb.GetRouteRequest{Modid: modid, Cmdid: cmdid, Accept: acc}))
	var m pb.GetRouteResponse
	if id != codec.MsgAPIGetRouteResponse || m.UnmarshalVT(body) != nil || m.Modid != modid || m.Cmdid != cmdid {
		c.t.Fatalf("answer %d %x to get_route (%d,%d)", id, body, modid, cmdid)
	}
	return &m
}

// hostOfInfo returns the host a HostInfo names, ip6 first.
func hostOfInfo(t testing.TB, h *pb.HostInfo) route.Host {
	t.Helper()
	rh := route.FromWire(h.GetIp(), h.GetPort())
	if len(h.GetIp6()) > 0 {
		if len(h.Ip6) != 16 || h.Ip != 0 {
			t.Fatalf("host %v: ip6 of %d bytes with ip %d", h, len(h.Ip6), h.Ip)
		}
		rh.Addr = netip.AddrPortFrom(netip.AddrFrom16([16]byte(h.Ip6)), uint16(h.Port))
	}
	rh.Weight, rh.Zone = h.GetWeight(), h.GetZone()
	return rh
}

// TestLarsClientNeverGetsIPv6: a client that sends no accept (Lars's C++ API: the
// golden frames) is chosen only IPv4 hosts, RET_NOEXIST for a key whose hosts are all
// IPv6, and gets byte for byte the frames it gets for an IPv4-only route.
func TestLarsClientNeverGetsIPv6(t *testing.T) {
	a := startAgent(t, agent.Config{Routes: mixedRoutes()})
	c := dial(t, a.Addrs()[0])
	want4 := goldenRoutes()[route.Key{Modid: 1, Cmdid: 1}]
	for i := range 60 {
		m := c.getHost(uint32(i), 1, 1)
		if m.Retcode != 0 || len(m.Host.GetIp6()) != 0 || m.Host.GetWeight() != 0 || m.Host.GetZone() != "" {
			t.Fatalf("get_host %d answered %v", i, m)
		}
		if h := route.FromWire(m.Host.Ip, m.Host.Port); route.Find(want4, h) < 0 {
			t.Fatalf("get_host %d answered %v, not an IPv4 host of the key", i, h)
		}
	}
	for i := range 5 {
		if m := c.getHost(uint32(100+i), 2, 2); m.Retcode != int32(codec.RetNoExist) || m.Host != nil {
			t.Fatalf("IPv6-only key answered %v, want RET_NOEXIST", m)
		}
	}
	// get_route: the golden frame of the three IPv4 hosts, without weight or zone.
	c.send(vectors.Frame("api_get_route_request"))
	if got, ok := c.recv(patience); !ok || !bytes.Equal(got, vectors.Frame("api_get_route_response")) {
		t.Fatalf("get_route answered %x, want the golden %x", got, vectors.Frame("api_get_route_response"))
	}
	c.send(frameOf(t, codec.MsgAPIGetRouteRequest, &pb.GetRouteRequest{Modid: 2, Cmdid: 2}))
	want := frameOf(t, codec.MsgAPIGetRouteResponse, &pb.GetRouteResponse{Modid: 2, Cmdid: 2})
	if got, ok := c.recv(patience); !ok || !bytes.Equal(got, want) {
		t.Fatalf("get_route of the IPv6-only key answered %x, want %x", got, want)
	}
}

// TestLarsClientGoldenGetHost: one IPv4 host with a weight and a zone among IPv6 ones:
// Lars's get_host gets the golden answer, byte for byte, every time.
func TestLarsClientGoldenGetHost(t *testing.T) {
	h := route.FromWire(ip("127.0.0.1"), 7000)
	h.Weight, h.Zone = 500, "z"
	a := startAgent(t, agent.Config{Routes: map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: {h, v6a, v6b}}})
	c := dial(t, a.Addrs()[0])
	for range 10 {
		c.send(vectors.Frame("get_host_request"))
		if got, ok := c.recv(patience); !ok || !bytes.Equal(got, vectors.Frame("get_host_response_succ")) {
			t.Fatalf("answer %x, want the golden %x", got, vectors.Frame("get_host_response_succ"))
		}
	}
}

// TestExtClientGetsIPv6 checks the extension's golden frames: an IPv6 host in ip6 to
// get_host with accept, weights and zones in get_route with accept.
func TestExtClientGetsIPv6(t *testing.T) {
	w := route.FromWire(ip("127.0.0.1"), 7000)
	w.Weight, w.Zone = 200, "sh-a"
	v6 := route.Host{Addr: netip.MustParseAddrPort("[2001:db8::1]:7001"), Weight: 100}
	a := startAgent(t, agent.Config{Routes: map[route.Key][]route.Host{
		{Modid: 1, Cmdid: 1}: {w, v6},
		{Modid: 2, Cmdid: 2}: {{Addr: netip.MustParseAddrPort("[2001:db8::1]:7000")}},
	}})
	c := dial(t, a.Addrs()[0])
	c.send(vectors.Frame("ext_api_get_route_request_accept"))
	if got, ok := c.recv(patience); !ok || !bytes.Equal(got, vectors.Frame("ext_api_get_route_response_ext")) {
		t.Fatalf("get_route with accept answered %x, want the golden %x", got, vectors.Frame("ext_api_get_route_response_ext"))
	}
	// ext_get_host_request_accept asks key (1,1): give it key (2,2)'s only host.
	a.Table().ApplyRoute(1, 1, []route.Host{{Addr: netip.MustParseAddrPort("[2001:db8::1]:7000")}})
	c.send(vectors.Frame("ext_get_host_request_accept"))
	if got, ok := c.recv(patience); !ok || !bytes.Equal(got, vectors.Frame("ext_get_host_response_ip6")) {
		t.Fatalf("get_host with accept answered %x, want the golden %x", got, vectors.Frame("ext_get_host_response_ip6"))
	}

	b := startAgent(t, agent.Config{Routes: mixedRoutes()})
	c = dial(t, b.Addrs()[0])
	seen := map[route.Host]bool{}
	for i := range 200 {
		m := c.getHostAccept(uint32(i), 1, 1, accept)
		if m.Retcode != 0 {
			t.Fatalf("get_host %d: %v", i, m)
		}
		h := hostOfInfo(t, m.Host)
		if h.Weight != 0 || h.Zone != "" {
			t.Fatalf("get_host answered %v: weight and zone are for get_route", m.Host)
		}
		seen[h] = true
	}
	if !seen[route.HostAt(v6a.Addr)] || !seen[route.HostAt(v6b.Addr)] {
		t.Fatalf("200 get_host with accept chose %v, never an IPv6 host", seen)
	}
	if m := c.getHostAccept(7, 2, 2, accept); m.Retcode != 0 || !hostOfInfo(t, m.Host).Addr.Addr().Is6() {
		t.Fatalf("IPv6-only key with accept: %v", m)
	}
	r := c.getRouteAccept(1, 1, accept)
	var got []route.Host
	for _, h := range r.Host {
		got = append(got, hostOfInfo(t, h))
	}
	if want := mixedRoutes()[route.Key{Modid: 1, Cmdid: 1}]; !route.Equal(got, route.Normalize(want)) {
		t.Fatalf("get_route with accept: %v, want %v", got, want)
	}
}

// TestReportIPv6: a report of a call to an IPv6 host (in ip6) reaches that host; one
// whose ip6 is not 16 bytes is dropped and counted.
func TestReportIPv6(t *testing.T) {
	a := startAgent(t, agent.Config{Routes: map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: {v6a, route.FromWire(ip("127.0.0.2"), 7001)}},
		Table: lb.Config{Clock: fakeclock.New().Now}})
	c := dial(t, a.Addrs()[0])
	for range 3 {
		c.send(vectors.Frame("ext_report_request_ip6")) // 2001:db8::1 port 7000, retcode 1
	}
	c.send(frameOf(t, codec.MsgReportRequest, &pb.ReportRequest{Modid: 1, Cmdid: 1, Retcode: 1,
		Host: &pb.HostInfo{Ip6: []byte{1, 2, 3, 4}, Port: 7000}}))
	eventually(t, patience, "IPv6 reports applied", func() bool {
		ki, _ := a.Table().Lookup(1, 1)
		for _, h := range ki.Hosts {
			if h.Host.Addr == v6a.Addr {
				return h.RErr == 3 || h.VErr == 3 || h.ContinErr == 3
			}
		}
		return false
	})
	eventually(t, patience, "bad ip6 counted", func() bool { return a.Counters().Drop(agent.DropBadReportHost) == 1 })
	if s := a.Table().Stats(); s.ReportsIgnored != 0 {
		t.Fatalf("%d reports ignored, want none", s.ReportsIgnored)
	}
}

// TestRoutesFileIPv6: -routes takes weights, zones and IPv6 hosts; /routes shows them.
func TestRoutesFileIPv6(t *testing.T) {
	path := filepath.Join(t.TempDir(), "routes.txt")
	text := "1 1 127.0.0.1 7000 weight=200 zone=sh-a\n1 1 2001:db8::1 7001 zone=sh-b\n2 2 [2001:db8::2] 80\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, agent.Config{RoutesFile: path})
	c := dial(t, a.Addrs()[0])
	if m := c.getHostAccept(1, 2, 2, accept); m.Retcode != 0 || hostOfInfo(t, m.Host).Addr != netip.MustParseAddrPort("[2001:db8::2]:80") {
		t.Fatalf("get_host with accept: %v", m)
	}
	if m := c.getHost(2, 2, 2); m.Retcode != int32(codec.RetNoExist) {
		t.Fatalf("get_host without accept: %v", m)
	}
	rec := httptest.NewRecorder()
	a.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/routes", nil))
	var keys []struct {
		Modid, Cmdid int32
		Hosts        []struct {
			Addr   string
			Weight uint32
			Zone   string
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &keys); err != nil {
		t.Fatalf("/routes: %v: %s", err, rec.Body)
	}
	found := 0
	for _, k := range keys {
		for _, h := range k.Hosts {
			switch h.Addr {
			case "127.0.0.1:7000":
				found += b2i(h.Weight == 200 && h.Zone == "sh-a")
			case "[2001:db8::1]:7001":
				found += b2i(h.Weight == route.DefaultWeight && h.Zone == "sh-b")
			case "[2001:db8::2]:80":
				found += b2i(h.Weight == route.DefaultWeight && h.Zone == "")
			}
		}
	}
	if found != 3 {
		t.Fatalf("/routes lacks a host, its weight or its zone:\n%s", rec.Body)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestZoneAgent: -zone is checked, reaches the table (picks stay in the zone while it
// has idle hosts), and its cross-zone picks are exported.
func TestZoneAgent(t *testing.T) {
	if _, err := agent.New(agent.Config{Routes: mixedRoutes(), Table: lb.Config{Zone: "no/zone"}}); err == nil ||
		!strings.Contains(err.Error(), "zone") {
		t.Fatalf("bad zone: %v", err)
	}
	in := route.FromWire(ip("127.0.0.1"), 7000)
	in.Zone = "here"
	out := route.FromWire(ip("127.0.0.2"), 7001)
	out.Zone = "there"
	a := startAgent(t, agent.Config{Table: lb.Config{Zone: "here"},
		Routes: map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: {in, out}, {Modid: 2, Cmdid: 2}: {out}}})
	c := dial(t, a.Addrs()[0])
	for i := range 20 {
		if m := c.getHost(uint32(i), 1, 1); m.Retcode != 0 || route.FromWire(m.Host.Ip, m.Host.Port) != route.HostAt(in.Addr) {
			t.Fatalf("get_host %d left the zone: %v", i, m)
		}
	}
	for i := range 4 {
		c.getHost(uint32(50+i), 2, 2) // no host in the zone: every pick leaves it
	}
	eventually(t, patience, "cross-zone picks exported", func() bool {
		var buf bytes.Buffer
		a.WriteMetrics(&buf)
		return strings.Contains(buf.String(), "lars_agent_zone_cross_picks_total 4\n")
	})
}

// TestRouteServiceExtToClients: hosts the route service sends with the extension's
// fields (an IPv6 one, a weight, a zone) reach an ext client, and the agent's Hello says
// FEATURE_ROUTE_EXT.
func TestRouteServiceExtToClients(t *testing.T) {
	dns := larstest.NewRouteService(t)
	w := route.FromWire(ip("10.1.0.1"), 9001)
	w.Weight, w.Zone = 250, "b"
	dns.SetRoute(1, 1, w, v6b)
	a := startAgent(t, agent.Config{RouteService: []string{dns.Addr()}})
	c := dial(t, a.Addrs()[0])
	var got []route.Host
	eventually(t, patience, "route pulled", func() bool {
		got = got[:0]
		for _, h := range c.getRouteAccept(1, 1, accept).Host {
			got = append(got, hostOfInfo(t, h))
		}
		return len(got) == 2
	})
	if want := route.Normalize([]route.Host{w, v6b}); !route.Equal(got, want) {
		t.Fatalf("route %v, want %v", got, want)
	}
	if r := c.getRouteAccept(1, 1, 0); len(r.Host) != 1 || hostOfInfo(t, r.Host[0]) != route.HostAt(w.Addr) {
		t.Fatalf("route without accept %v, want the IPv4 host alone without weight or zone", r.Host)
	}
}
