//go:build !race

package agent

import (
	"testing"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/alloctest"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// TestHandlerPolicyAlloc: get_host and a report with a latency stay at zero
// allocations per datagram under the ewma policy with panic mode, and the latency
// reaches the table.
func TestHandlerPolicyAlloc(t *testing.T) {
	hosts := make([]route.Host, 10)
	for i := range hosts {
		hosts[i] = route.FromWire(int32(0x0a000001+i), int32(7000+i))
	}
	table := lb.NewTable(lb.Config{Static: true, Policies: lb.Policies{Pick: lb.PolicyEWMA, PanicThreshold: 50}})
	table.ReplaceRoutes(map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: hosts})
	var stats workerStats
	h := newHandler(table, &stats, nil)
	slot := make([]byte, 2048)
	report, _ := codec.AppendFrame(nil, codec.MsgReportRequest,
		&pb.ReportRequest{Modid: 1, Cmdid: 1, Host: hostInfoOf(hosts[3].Addr), LatencyUs: 2500})
	get := vectors.Frame("get_host_request")
	alloctest.Zero(t, "get_host under ewma", 1000, func() { h.handle(get, slot, nil) })
	alloctest.Zero(t, "report with latency under ewma", 1000, func() { h.handle(report, slot, nil) })
	ki, _ := table.Lookup(1, 1)
	for _, hi := range ki.Hosts {
		if hi.Host == hosts[3] && hi.Latency.Microseconds() != 2500 {
			t.Fatalf("latency of the reported host %v, want 2.5ms", hi.Latency)
		}
	}
}
