package agent

import (
	"net/netip"
	"testing"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// FuzzHandle: whatever the datagram, the handler answers a get_host or get_route with a
// frame that decodes and echoes its key, drops the rest counted, and never gives a
// request without ACCEPT_ROUTE_EXT an IPv6 host, a weight or a zone.
func FuzzHandle(f *testing.F) {
	for _, name := range []string{"get_host_request", "get_host_request_big", "report_request_succ",
		"report_request_fail", "api_get_route_request", "ext_get_host_request_accept",
		"ext_report_request_ip6", "ext_api_get_route_request_accept"} {
		f.Add(vectors.Frame(name))
	}
	bad, _ := codec.AppendFrame(nil, codec.MsgReportRequest, &pb.ReportRequest{Modid: 1, Cmdid: 1, Host: &pb.HostInfo{Ip6: []byte{1, 2, 3}, Port: 7000}})
	f.Add(bad)
	f.Add([]byte{4, 0, 0, 0, 3, 0, 0, 0, 0xa0, 0x06, 0x01}) // get_host with accept only
	tbl := lb.NewTable(lb.Config{Static: true})
	tbl.ReplaceRoutes(map[route.Key][]route.Host{
		{Modid: 1, Cmdid: 1}: {route.FromWire(2130706433, 7000), {Addr: netip.MustParseAddrPort("[2001:db8::1]:7000"), Weight: 200, Zone: "z"}},
		{Modid: 2, Cmdid: 2}: {{Addr: netip.MustParseAddrPort("[2001:db8::2]:7000")}},
	})
	var st workerStats
	h := newHandler(tbl, &st, nil)
	slot := make([]byte, batchio.DefaultSlotSize)
	f.Fuzz(func(t *testing.T, frame []byte) {
		ans, big := h.handle(frame, slot, nil)
		if big != nil {
			t.Fatal("pooled answer for a two-host route")
		}
		if ans == nil {
			return
		}
		id, body, _ := codec.ParseDatagram(frame)
		aid, abody, r := codec.ParseDatagram(ans)
		if r != codec.ReasonOK {
			t.Fatalf("answer %x: %v", ans, r)
		}
		var hosts []*pb.HostInfo
		var accept uint32
		switch id {
		case codec.MsgGetHostRequest:
			var q pb.GetHostRequest
			var a pb.GetHostResponse
			if q.UnmarshalVT(body) != nil || aid != codec.MsgGetHostResponse || a.UnmarshalVT(abody) != nil ||
				a.Seq != q.Seq || a.Modid != q.Modid || a.Cmdid != q.Cmdid {
				t.Fatalf("get_host %x answered %x", frame, ans)
			}
			accept = q.Accept
			if a.Host != nil {
				hosts = append(hosts, a.Host)
			}
		case codec.MsgAPIGetRouteRequest:
			var q pb.GetRouteRequest
			var a pb.GetRouteResponse
			if q.UnmarshalVT(body) != nil || aid != codec.MsgAPIGetRouteResponse || a.UnmarshalVT(abody) != nil ||
				a.Modid != q.Modid || a.Cmdid != q.Cmdid {
				t.Fatalf("get_route %x answered %x", frame, ans)
			}
			accept, hosts = q.Accept, a.Host
		default:
			t.Fatalf("msgid %d answered %x", id, ans)
		}
		for _, hi := range hosts {
			if accept&uint32(pb.Accept_ACCEPT_ROUTE_EXT) == 0 && (len(hi.Ip6) != 0 || hi.Weight != 0 || hi.Zone != "") {
				t.Fatalf("request %x without ACCEPT_ROUTE_EXT answered %v", frame, hi)
			}
			if len(hi.Ip6) != 0 && (len(hi.Ip6) != 16 || hi.Ip != 0) {
				t.Fatalf("host %v", hi)
			}
		}
	})
}
