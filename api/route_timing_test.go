package api_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/agenttest"
	"github.com/larsgo/lars/route"
)

// routePair runs b.N GetRoute calls of one caller for key (1, 1), alternating chunks of
// pairChunk with as many bare round trips of the same request (write a get_route
// request on a connected socket, read its answer) to the same agent port, and reports
// x-roundtrip as the GetHost pairs do (see alternate).
func routePair(b *testing.B, ports []uint16) {
	c := newClient(b, api.Config{Ports: ports, Timeout: patience})
	port := ports[api.PortIndex(1, 1, len(ports))]
	conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(port)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	conn.SetReadDeadline(time.Now().Add(time.Hour)) // once: a lost answer fails, never hangs
	req, err := codec.AppendFrame(nil, codec.MsgAPIGetRouteRequest, &pb.GetRouteRequest{Modid: 1, Cmdid: 1})
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, codec.MaxFrameSize+1)
	hosts := make([]api.Host, 0, 16)
	ctx := context.Background()
	alternate(b, pairChunk, func(bare bool, n int) time.Duration {
		start := time.Now()
		for range n {
			if bare {
				if _, err := conn.Write(req); err != nil {
					b.Fatal(err)
				}
				if _, err := conn.Read(buf); err != nil {
					b.Fatal(err)
				}
			} else if hosts, err = c.GetRoute(ctx, 1, 1, hosts[:0]); err != nil || len(hosts) == 0 {
				b.Fatalf("GetRoute(1, 1) = %v, %v", hosts, err)
			}
		}
		return time.Since(start)
	})
}

// BenchmarkGetRouteVsRoundTrip is one caller's GetRoute against bare get_route round
// trips to the fake agent.
func BenchmarkGetRouteVsRoundTrip(b *testing.B) {
	a := startAgent(b)
	a.SetRoute(1, 1, hostFor(1, 1))
	routePair(b, a.Config().Ports)
}

// BenchmarkRealAgentGetRouteVsRoundTrip is BenchmarkGetRouteVsRoundTrip against the
// real agent, for a route of 10 hosts.
func BenchmarkRealAgentGetRouteVsRoundTrip(b *testing.B) {
	var hosts []route.Host
	for i := range int32(10) {
		hosts = append(hosts, route.FromWire(10<<24|1+i, 9000))
	}
	_, ports := agenttest.Start(b, map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: hosts}, 3)
	routePair(b, ports)
}
