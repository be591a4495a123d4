package loadgen

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/agenttest"
	"github.com/larsgo/lars/internal/udpstat"
	"github.com/larsgo/lars/lb"
)

// TestAgent runs a mixed load against a real agent with static routes: the figures
// add up, and the retcodes and request counts match the agent's own counters.
func TestAgent(t *testing.T) {
	routes := map[lb.Key][]lb.Host{}
	ip, _ := codec.ParseIPv4("127.0.0.1")
	for m := int32(1); m <= 10; m++ {
		routes[lb.Key{Modid: m, Cmdid: 1}] = []lb.Host{{IP: ip, Port: 7000}, {IP: ip, Port: 7001}}
	}
	a, agentPorts := agenttest.Start(t, routes, 3)
	var ports []int
	for _, p := range agentPorts {
		ports = append(ports, int(p))
	}
	cfg := Config{
		Ports:       ports,
		Sockets:     6,
		Mix:         Mix{KindGetHost: 90, KindGetRoute: 5, KindReport: 5},
		FailHosts:   []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:7001")},
		Modids:      Range{1, 12}, // 11 and 12 have no route: RET_NOEXIST
		Concurrency: 16,
		Requests:    4000,
		Timeout:     time.Second,
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkIdentities(t, rep)
	if rep.Timeouts != 0 || rep.Malformed != 0 || rep.Late != 0 || rep.Duplicates != 0 {
		t.Fatalf("timeouts %d malformed %d late %d duplicates %d on loopback, want none", rep.Timeouts, rep.Malformed, rep.Late, rep.Duplicates)
	}
	// The reports after get_host answers may still be on their way: give them time.
	var c agent.Counters
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if c = a.Counters(); c.Requests[codec.MsgReportRequest] >= rep.ReportsSent {
			break
		}
	}
	rc := rep.Retcodes
	got := [4]uint64{rc.Succ, rc.Overload, rc.SystemError, rc.NoExist}
	if got != c.Answers {
		t.Errorf("retcodes %v, agent answered %v", got, c.Answers)
	}
	if rc.NoExist == 0 || rc.Succ == 0 {
		t.Errorf("retcodes %+v: want succ and noexist answers", rc)
	}
	want := map[codec.MsgID]uint64{
		codec.MsgGetHostRequest:     rep.ByType.GetHost.Sent,
		codec.MsgAPIGetRouteRequest: rep.ByType.GetRoute.Sent,
		codec.MsgReportRequest:      rep.ReportsSent,
	}
	// A datagram the kernel accepted can still be dropped by it at the agent's full
	// receive buffer, and a send that failed is counted as a send error: a difference
	// those explain is the machine's, anything else is the load generator's miscount.
	kernelDrops, err := udpstat.Drops(ports)
	if err != nil {
		t.Logf("kernel drops unknown: %v", err)
	}
	for id, n := range want {
		got := c.Requests[id]
		if got == n {
			continue
		}
		if got < n && n-got <= kernelDrops+rep.SendErrors {
			t.Logf("agent received %d %s, load generator sent %d: explained by %d kernel drops at the agent and %d send errors",
				got, id, n, kernelDrops, rep.SendErrors)
			continue
		}
		t.Errorf("agent received %d %s, load generator sent %d (kernel drops at the agent %d, send errors %d, agent drops %v)",
			got, id, n, kernelDrops, rep.SendErrors, c.Drops)
	}
	if rep.ByType.Report.ReportsAfter != rc.Succ {
		t.Errorf("%d reports after get_host, want one per succ answer (%d)", rep.ByType.Report.ReportsAfter, rc.Succ)
	}
	t.Logf("%d get_host (%+v), %d get_route, %d reports; p99 %.0fus", rep.ByType.GetHost.Sent, rc, rep.ByType.GetRoute.Sent, rep.ReportsSent, rep.LatencyUS.P99)
}
