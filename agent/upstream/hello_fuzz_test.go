package upstream

import (
	"bytes"
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// FuzzRouteClientReader feeds arbitrary bytes to the route client's reader as the route
// service's stream: it never panics, ends at the end of the stream, and passes at most
// one HelloReply of the connection to the Run goroutine.
func FuzzRouteClientReader(f *testing.F) {
	reply, _ := codec.AppendFrame(nil, codec.MsgHelloReply, &larspb.HelloReply{Features: 1, IdleTimeoutMs: 120_000})
	answer, _ := codec.AppendFrame(nil, codec.MsgGetRouteResponse,
		&larspb.GetRouteResponse{Modid: 1, Cmdid: 2, Host: []*larspb.HostInfo{{Ip: 1, Port: 2}}})
	unsub, _ := codec.AppendFrame(nil, codec.MsgUnsubscribe, &larspb.Unsubscribe{Keys: []*larspb.RouteKey{{Modid: 1, Cmdid: 2}}})
	f.Add(reply)
	f.Add(append(append([]byte{}, reply...), reply...))
	f.Add(append(append([]byte{}, answer...), reply...))
	f.Add(unsub)
	f.Add(vectors.Frame("ext_dns_get_route_response_ext"))
	v6 := [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}
	ext, _ := codec.AppendFrame(nil, codec.MsgGetRouteResponse, &larspb.GetRouteResponse{Modid: 1, Cmdid: 2,
		Host: []*larspb.HostInfo{{Ip6: v6[:], Port: 2, Weight: 7, Zone: "z"}, {Ip6: v6[:3], Port: 3}, {Ip: 4, Port: 4, Weight: 10001, Zone: "no zone"}}})
	f.Add(ext)
	f.Add([]byte{0, 0, 0, 101, 0, 0, 0, 2, 0xff, 0xff}) // a HelloReply whose body does not parse
	f.Fuzz(func(t *testing.T, stream []byte) {
		tbl := lb.NewTable(lb.Config{})
		tbl.GetHost(1, 2)
		c := NewRouteClient(RouteClientConfig{Table: tbl, Link: Link{Logger: quiet}})
		c.sr = codec.NewStreamReader(bytes.NewReader(stream), 0)
		if err := c.readLoop(); err == nil {
			t.Fatal("the reader ended without an error")
		}
		if len(c.replies) > 1 {
			t.Fatalf("%d HelloReplies passed on", len(c.replies))
		}
		// Hosts the reader kept have a 16-byte or IPv4 address, a weight within bounds
		// and a valid zone or none.
		if ki, ok := tbl.Lookup(1, 2); ok {
			for _, h := range ki.Hosts {
				if h.Host.Addr.Addr().Is4In6() || h.Host.Weight > route.MaxWeight || (h.Host.Zone != "" && route.CheckZone(h.Host.Zone) != nil) {
					t.Fatalf("host %+v applied", h.Host)
				}
			}
		}
	})
}
