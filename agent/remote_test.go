package agent

import (
	"net/netip"
	"testing"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

func TestIsRemote(t *testing.T) {
	for _, c := range []struct {
		addr   string
		remote bool
	}{
		{"127.0.0.1:1", false}, {"127.0.0.2:1", false}, {"127.255.0.9:1", false},
		{"[::1]:1", false}, {"[::ffff:127.0.0.1]:1", false},
		{"10.0.0.1:1", true}, {"192.168.1.1:1", true}, {"0.0.0.0:1", true},
		{"[::ffff:10.0.0.1]:1", true}, {"[2001:db8::1]:1", true},
	} {
		if got := isRemote(netip.MustParseAddrPort(c.addr)); got != c.remote {
			t.Errorf("isRemote(%s) = %v, want %v", c.addr, got, c.remote)
		}
	}
	if isRemote(netip.AddrPort{}) {
		t.Error("a source with no address counted as remote")
	}
}

// sockAddr returns s as a batchio.SockAddr, as recvmmsg reports a source.
func sockAddr(s string) *batchio.SockAddr {
	var a batchio.SockAddr
	a.SetAddrPort(netip.MustParseAddrPort(s))
	return &a
}

// routeHandler returns a handler of a static table where key 1/1 has n hosts.
func routeHandler(n int) (*handler, *workerStats) {
	hosts := make([]route.Host, n)
	for i := range hosts {
		hosts[i] = route.FromWire(int32(0x0a000001+i), int32(7000+i))
	}
	tbl := lb.NewTable(lb.Config{Static: true})
	tbl.ReplaceRoutes(map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: hosts})
	var st workerStats
	return newHandler(tbl, &st, nil), &st
}

func routeRequest(t *testing.T) []byte {
	t.Helper()
	req, err := codec.AppendFrame(nil, codec.MsgAPIGetRouteRequest, &pb.GetRouteRequest{Modid: 1, Cmdid: 1})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// hostsOf decodes a get_route answer and returns its host count.
func hostsOf(t *testing.T, ans []byte) int {
	t.Helper()
	id, body, r := codec.ParseDatagram(ans)
	var m pb.GetRouteResponse
	if r != codec.ReasonOK || id != codec.MsgAPIGetRouteResponse || m.UnmarshalVT(body) != nil {
		t.Fatalf("answer %x is not a get_route answer", ans)
	}
	return len(m.Host)
}

// TestRemoteGetRoute: a get_route from off loopback is dropped unless allowed, and
// then answered at most remoteAnswerFactor times the request's size (a larger route
// empty); loopback sources get the whole route. Each refusal is counted.
func TestRemoteGetRoute(t *testing.T) {
	req := routeRequest(t)
	slot := make([]byte, 2048)
	h, st := routeHandler(5000)
	remote, local := sockAddr("10.1.2.3:5353"), sockAddr("127.0.0.2:5353")
	if ans, _ := h.handle(req, slot, remote); ans != nil || st.drops[DropRemoteGetRoute].Load() != 1 {
		t.Fatalf("remote get_route answered (%d bytes) or not counted", len(ans))
	}
	ans, _ := h.handle(req, slot, local)
	if hostsOf(t, ans) != 5000 {
		t.Fatalf("loopback get_route: %d hosts, want 5000", hostsOf(t, ans))
	}
	t.Logf("5000-host route: %d-byte request, %d-byte answer to loopback (%.0fx)", len(req), len(ans), float64(len(ans))/float64(len(req)))

	h.remoteRoute = true
	ans, _ = h.handle(req, slot, remote)
	if len(ans) > remoteAnswerFactor*len(req) || hostsOf(t, ans) != 0 || st.drops[DropRemoteRouteCapped].Load() != 1 {
		t.Fatalf("allowed remote get_route of 5000 hosts: %d-byte answer to a %d-byte request, %d hosts",
			len(ans), len(req), hostsOf(t, ans))
	}

	small, st2 := routeHandler(1) // fits in 3x the request
	small.remoteRoute = true
	if ans, _ := small.handle(req, slot, remote); hostsOf(t, ans) != 1 || st2.drops[DropRemoteRouteCapped].Load() != 0 {
		t.Fatalf("a one-host route to an allowed remote source: %d hosts", hostsOf(t, ans))
	}
}

// TestHandlerLimitsUnknownKeysPerSource: through the handler, one source creates at
// most a burst of unknown keys; another source still creates its own; known keys are
// served to the limited source.
func TestHandlerLimitsUnknownKeysPerSource(t *testing.T) {
	clk := fakeclock.New()
	tbl := lb.NewTable(lb.Config{Clock: clk.Now})
	var st workerStats
	h := newHandler(tbl, &st, nil)
	h.setLimiter(newSourceLimiter(5, 64, clk.Now))
	slot := make([]byte, 2048)
	flood, real := sockAddr("127.0.0.1:40000"), sockAddr("127.0.0.1:40001")
	get := func(src *batchio.SockAddr, modid, cmdid int32) int32 {
		req, _ := codec.AppendFrame(nil, codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: 1, Modid: modid, Cmdid: cmdid})
		ans, _ := h.handle(req, slot, src)
		var m pb.GetHostResponse
		_, body, _ := codec.ParseDatagram(ans)
		if err := m.UnmarshalVT(body); err != nil {
			t.Fatal(err)
		}
		return m.Retcode
	}
	for i := range int32(100) {
		get(flood, 9, i)
	}
	if s := tbl.Stats(); s.Keys != 5 || s.RefusedLimited != 95 {
		t.Fatalf("flood of 100 unknown keys from one source: %d keys created, %d limited", s.Keys, s.RefusedLimited)
	}
	get(real, 1, 1)
	if !tbl.Has(1, 1) {
		t.Fatal("the flood's limit refused another source's key")
	}
	<-tbl.Pulls()
	tbl.ApplyRoute(1, 1, []route.Host{route.FromWire(1, 2)})
	if rc := get(flood, 1, 1); rc != int32(codec.RetSucc) {
		t.Fatalf("a known key asked by the limited source: retcode %d", rc)
	}
}
