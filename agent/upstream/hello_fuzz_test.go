package upstream

import (
	"bytes"
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/lb"
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
	})
}
