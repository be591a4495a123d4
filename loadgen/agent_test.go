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
	"github.com/larsgo/lars/route"
)

// TestAgent runs a mixed load against a real agent with static routes: the figures
// add up, and the retcodes and request counts match the agent's own counters. It runs
// on simulated time, through proxies (see simNet) that pass each datagram to the
// agent and its answer back 100us later, whenever the agent really answered: every
// request is answered in time however slow the machine, and every one is counted.
func TestAgent(t *testing.T) {
	routes := map[route.Key][]route.Host{}
	ip, _ := route.ParseWireIP("127.0.0.1")
	for m := int32(1); m <= 10; m++ {
		routes[route.Key{Modid: m, Cmdid: 1}] = []route.Host{route.FromWire(ip, 7000), route.FromWire(ip, 7001)}
	}
	a, agentPorts := agenttest.Start(t, routes, 3)
	sim := newSimNet(t)
	var ports, watched []int // the proxies' ports, in the agent's order; every port involved
	for _, p := range agentPorts {
		port := sim.proxy(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), p), 100*time.Microsecond, answeredByAgent)
		ports = append(ports, port)
		watched = append(watched, port, int(p))
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
	rep, err := Run(context.Background(), sim.config(cfg))
	if err != nil {
		t.Fatal(err)
	}
	checkIdentities(t, rep)
	if rep.Timeouts != 0 || rep.Malformed != 0 || rep.Late != 0 || rep.Duplicates != 0 {
		t.Fatalf("timeouts %d malformed %d late %d duplicates %d want none: the simulated time waits for every answer", rep.Timeouts, rep.Malformed, rep.Late, rep.Duplicates)
	}
	want := map[codec.MsgID]uint64{
		codec.MsgGetHostRequest:     rep.ByType.GetHost.Sent,
		codec.MsgAPIGetRouteRequest: rep.ByType.GetRoute.Sent,
		codec.MsgReportRequest:      rep.ReportsSent,
	}
	// The last reports may still be on their way to the agent: wait until every
	// datagram sent has reached it, or is explained by kernel drops and send errors.
	var c agent.Counters
	var kernelDrops uint64
	var dropsErr error
	arrived := func() bool {
		c = a.Counters()
		kernelDrops, dropsErr = udpstat.Drops(watched)
		for id, n := range want {
			if c.Requests[id]+kernelDrops+rep.SendErrors < n {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(30 * time.Second); !arrived() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if dropsErr != nil {
		t.Logf("kernel drops unknown: %v", dropsErr)
	}
	rc := rep.Retcodes
	got := [4]uint64{rc.Succ, rc.Overload, rc.SystemError, rc.NoExist}
	if got != c.Answers {
		t.Errorf("retcodes %v, agent answered %v", got, c.Answers)
	}
	if rc.NoExist == 0 || rc.Succ == 0 {
		t.Errorf("retcodes %+v: want succ and noexist answers", rc)
	}
	// A datagram the kernel accepted can still be dropped by it at a full receive
	// buffer, and a send that failed is counted as a send error: a difference those
	// explain is the machine's, anything else is the load generator's miscount.
	for id, n := range want {
		got := c.Requests[id]
		if got == n {
			continue
		}
		if got < n && n-got <= kernelDrops+rep.SendErrors {
			t.Logf("agent received %d %s, load generator sent %d: explained by %d kernel drops and %d send errors",
				got, id, n, kernelDrops, rep.SendErrors)
			continue
		}
		t.Errorf("agent received %d %s, load generator sent %d (kernel drops at the proxy and the agent %d, send errors %d, agent drops %v)",
			got, id, n, kernelDrops, rep.SendErrors, c.Drops)
	}
	if rep.ByType.Report.ReportsAfter != rc.Succ {
		t.Errorf("%d reports after get_host, want one per succ answer (%d)", rep.ByType.Report.ReportsAfter, rc.Succ)
	}
	t.Logf("%d get_host (%+v), %d get_route, %d reports; p99 %.0fus", rep.ByType.GetHost.Sent, rc, rep.ByType.GetRoute.Sent, rep.ReportsSent, rep.LatencyUS.P99)
}

// answeredByAgent reports whether the agent answers datagram d: get_host and
// get_route requests; reports get no answer.
func answeredByAgent(d []byte) bool {
	id, _, r := codec.ParseDatagram(d)
	return r == codec.ReasonOK && (id == codec.MsgGetHostRequest || id == codec.MsgAPIGetRouteRequest)
}
