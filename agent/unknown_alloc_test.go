//go:build !race

package agent

import (
	"net/netip"
	"testing"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/alloctest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

func TestSourceLimiterAlloc(t *testing.T) {
	l := newSourceLimiter(1_000_000, 64, nil)
	a := netip.MustParseAddrPort("[2001:db8::1]:53")
	alloctest.Zero(t, "allow", 1000, func() { l.allow(a) })
}

// TestHandlerSourcePathsNoAlloc: the checks on the source (the per-source limit of
// unknown keys, get_route off loopback) add no allocation per datagram.
func TestHandlerSourcePathsNoAlloc(t *testing.T) {
	tbl := lb.NewTable(lb.Config{})
	tbl.ReplaceRoutes(map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: {route.FromWire(1, 2)}})
	var st workerStats
	h := newHandler(tbl, &st, nil)
	h.setLimiter(newSourceLimiter(1, 64, nil))
	slot := make([]byte, 2048)
	src, remote := sockAddr("127.0.0.1:40000"), sockAddr("10.0.0.1:40000")
	known, _ := codec.AppendFrame(nil, codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: 1, Modid: 1, Cmdid: 1})
	unknown, _ := codec.AppendFrame(nil, codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: 1, Modid: 9, Cmdid: 9})
	h.handle(unknown, slot, src) // the one token of its burst
	route := routeRequest(t)
	alloctest.Zero(t, "get_host known key, limited source", 1000, func() { h.handle(known, slot, src) })
	alloctest.Zero(t, "get_host unknown key refused by the limit", 1000, func() { h.handle(unknown, slot, src) })
	alloctest.Zero(t, "get_route from loopback", 1000, func() { h.handle(route, slot, src) })
	alloctest.Zero(t, "get_route from off loopback, dropped", 1000, func() { h.handle(route, slot, remote) })
	h.remoteRoute = true
	alloctest.Zero(t, "get_route from off loopback, allowed", 1000, func() { h.handle(route, slot, remote) })
}
