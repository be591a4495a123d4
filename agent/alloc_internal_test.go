//go:build !race

package agent

import (
	"net/netip"
	"testing"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// TestHandlerNoAlloc pins the per-datagram path at zero allocations: validate, decode
// into the reused message, route table, encode into the slot.
func TestHandlerNoAlloc(t *testing.T) {
	hosts := make([]route.Host, 10)
	for i := range hosts {
		hosts[i] = route.FromWire(int32(0x0a000001+i), int32(7000+i))
	}
	// Key (2,2): IPv4 and IPv6 hosts with weights and zones, for the route extension.
	mixed := append([]route.Host(nil), hosts[:3]...)
	mixed[0].Weight, mixed[0].Zone = 300, "eu-1a"
	mixed = append(mixed, route.Host{Addr: netip.MustParseAddrPort("[2001:db8::1]:7000"), Zone: "eu-1b"},
		route.Host{Addr: netip.MustParseAddrPort("[2001:db8::2]:7000"), Weight: 50})
	table := lb.NewTable(lb.Config{Static: true})
	table.ReplaceRoutes(map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: hosts, {Modid: 2, Cmdid: 2}: mixed})
	ext := uint32(pb.Accept_ACCEPT_ROUTE_EXT)
	getHostExt, _ := codec.AppendFrame(nil, codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: 1, Modid: 2, Cmdid: 2, Accept: ext})
	getHostLars, _ := codec.AppendFrame(nil, codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: 1, Modid: 2, Cmdid: 2})
	getRouteExt, _ := codec.AppendFrame(nil, codec.MsgAPIGetRouteRequest, &pb.GetRouteRequest{Modid: 2, Cmdid: 2, Accept: ext})
	getRouteLars, _ := codec.AppendFrame(nil, codec.MsgAPIGetRouteRequest, &pb.GetRouteRequest{Modid: 2, Cmdid: 2})
	var stats workerStats
	h := newHandler(table, &stats, nil)
	slot := make([]byte, 2048)
	reportFrame, _ := codec.AppendFrame(nil, codec.MsgReportRequest,
		&pb.ReportRequest{Modid: 1, Cmdid: 1, Host: hostInfoOf(hosts[3].Addr)})
	cases := []struct {
		name   string
		frame  []byte
		answer bool
	}{
		{"get_host", vectors.Frame("get_host_request"), true},
		{"get_host unknown key", vectors.Frame("get_host_request_big"), true},
		{"report", reportFrame, false},
		{"get_route 10 hosts", vectors.Frame("api_get_route_request"), true},
		{"get_host ext, IPv6 hosts", getHostExt, true},
		{"get_host Lars, IPv6 hosts left out", getHostLars, true},
		{"report ip6", vectors.Frame("ext_report_request_ip6"), false},
		{"get_route ext, weights, zones, IPv6", getRouteExt, true},
		{"get_route Lars, IPv6 hosts left out", getRouteLars, true},
		{"malformed", []byte{1, 2, 3}, false},
		{"unknown msgid", vectors.Frame("get_host_response_succ"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(1000, func() {
				ans, big := h.handle(c.frame, slot, nil)
				if (ans != nil) != c.answer || big != nil {
					t.Fatalf("answer %x, pooled %v", ans, big != nil)
				}
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per datagram, want 0", allocs)
			}
		})
	}
}
