//go:build !race

package agent

import (
	"testing"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/lb"
)

// TestHandlerNoAlloc pins the per-datagram path at zero allocations: validate, decode
// into the reused message, route table, encode into the slot.
func TestHandlerNoAlloc(t *testing.T) {
	hosts := make([]lb.Host, 10)
	for i := range hosts {
		hosts[i] = lb.Host{IP: int32(0x0a000001 + i), Port: int32(7000 + i)}
	}
	table := lb.NewTable(lb.Config{Static: true})
	table.ReplaceRoutes(map[lb.Key][]lb.Host{{Modid: 1, Cmdid: 1}: hosts})
	var stats workerStats
	h := newHandler(table, &stats, nil)
	slot := make([]byte, 2048)
	reportFrame, _ := codec.AppendFrame(nil, codec.MsgReportRequest,
		&pb.ReportRequest{Modid: 1, Cmdid: 1, Host: &pb.HostInfo{Ip: hosts[3].IP, Port: hosts[3].Port}})
	cases := []struct {
		name   string
		frame  []byte
		answer bool
	}{
		{"get_host", vectors.Frame("get_host_request"), true},
		{"get_host unknown key", vectors.Frame("get_host_request_big"), true},
		{"report", reportFrame, false},
		{"get_route 10 hosts", vectors.Frame("api_get_route_request"), true},
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
