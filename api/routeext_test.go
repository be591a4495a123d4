package api_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/agenttest"
	"github.com/larsgo/lars/route"
)

var (
	ext6a = api.Host{Addr: netip.MustParseAddrPort("[2001:db8::1]:7000")}
	ext6b = api.Host{Addr: netip.MustParseAddrPort("[2001:db8::2]:7001"), Weight: 300, Zone: "eu-1b"}
)

// TestClientAcceptsRouteExt: the client's get_host and get_route carry ACCEPT_ROUTE_EXT;
// it returns IPv6 hosts, reports them in ip6, and GetRoute's hosts have their weight
// and zone.
func TestClientAcceptsRouteExt(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	w := hostFor(1, 1)
	w.Weight, w.Zone = 200, "eu-1a"
	a.SetRoute(1, 1, w, ext6a, ext6b)
	a.SetRoute(2, 2, ext6a)
	ctx := context.Background()
	h, err := c.GetHost(ctx, 2, 2)
	if err != nil || h != ext6a {
		t.Fatalf("GetHost of an IPv6-only key = %v, %v; want %v", h, err, ext6a)
	}
	seen := map[api.Host]bool{}
	for range 6 {
		h, err := c.GetHost(ctx, 1, 1)
		if err != nil || h.Weight != 0 || h.Zone != "" {
			t.Fatalf("GetHost = %+v, %v", h, err)
		}
		seen[h] = true
	}
	if len(seen) != 3 {
		t.Fatalf("GetHost chose %v, want all three hosts", seen)
	}
	hosts, err := c.GetRoute(ctx, 1, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(hosts, route.Compare)
	if want := route.Normalize([]api.Host{w, ext6a, ext6b}); !route.Equal(hosts, want) {
		t.Fatalf("GetRoute = %v, want %v", hosts, want)
	}
	if err := c.Report(2, 2, ext6b, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Report(1, 1, w, 0); err != nil {
		t.Fatal(err)
	}
	if !a.WaitCount(codec.MsgReportRequest, 2, patience) {
		t.Fatal("reports not received")
	}
	reported := map[api.Host]int32{} // reports of keys on two ports: in either order
	for _, r := range a.Reports() {
		reported[r.Host] = r.Modid
	}
	if len(reported) != 2 || reported[route.HostAt(ext6b.Addr)] != 2 || reported[route.HostAt(w.Addr)] != 1 {
		t.Fatalf("reports %v, want %v for key 2 and %v for key 1", reported, ext6b.Addr, w.Addr)
	}
	for _, r := range a.Requests() {
		if (r.MsgID == codec.MsgGetHostRequest || r.MsgID == codec.MsgAPIGetRouteRequest) && r.Accept != uint32(pb.Accept_ACCEPT_ROUTE_EXT) {
			t.Fatalf("%v sent accept %d, want ACCEPT_ROUTE_EXT", r.MsgID, r.Accept)
		}
	}
}

// TestRealAgentIPv6FromRoutesFile: a routes file with IPv4 and IPv6 hosts, weights and
// zones, served by the real agent: the Go client gets the IPv6 host, its reports reach
// it, and GetRoute lists every host with its weight and zone.
func TestRealAgentIPv6FromRoutesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "routes.txt")
	text := "# modid cmdid ip port [weight=N] [zone=NAME]\n" +
		"1 1 127.0.0.1 7000 weight=200 zone=eu-1a\n1 1 2001:db8::1 7000\n1 1 [2001:db8::2] 7001 weight=300 zone=eu-1b\n" +
		"2 2 2001:db8::1 7000\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	routes, err := agent.LoadRoutesFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ag, ports := agenttest.Start(t, routes, 3)
	c, err := api.New(api.Config{Ports: ports, Timeout: patience})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	h, err := c.GetHost(ctx, 2, 2)
	if err != nil || h != ext6a {
		t.Fatalf("GetHost(2, 2) = %v, %v; want %v", h, err, ext6a)
	}
	got6 := false
	for range 30 {
		h, err := c.GetHost(ctx, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		got6 = got6 || h.Addr.Addr().Is6()
	}
	if !got6 {
		t.Fatal("30 GetHost never chose an IPv6 host")
	}
	hosts, err := c.GetRoute(ctx, 1, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(hosts, route.Compare)
	if want := routes[route.Key{Modid: 1, Cmdid: 1}]; !route.Equal(hosts, want) {
		t.Fatalf("GetRoute = %v, want %v", hosts, want)
	}
	for range 3 {
		if err := c.Report(2, 2, h, 1); err != nil {
			t.Fatal(err)
		}
	}
	if !waitFor(func() bool {
		ki, ok := ag.Table().Lookup(2, 2)
		return ok && len(ki.Hosts) == 1 && ki.Hosts[0].ContinErr+ki.Hosts[0].VErr+ki.Hosts[0].RErr >= 3
	}) {
		t.Fatalf("IPv6 reports not applied: %+v, %d ignored", ag.Table().Snapshot(), ag.Table().Stats().ReportsIgnored)
	}
}
