package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/echo"
	"github.com/larsgo/lars/loadgen/report"
)

func startEcho(t testing.TB) *echo.Server {
	t.Helper()
	srv, err := echo.Start("127.0.0.1:0", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// TestEchoClosedLoop runs a closed loop with a warm-up in echo mode against the echo
// server, on simulated time: a proxy (see simNet) passes each datagram to the server
// and its echo back 1ms later, whenever the server really echoed it. Every request
// of the measured phase is answered, as its own echo, in exactly 1ms.
func TestEchoClosedLoop(t *testing.T) {
	srv := startEcho(t)
	sim := newSimNet(t)
	port := sim.proxy(srv.Addr(), time.Millisecond, func([]byte) bool { return true })
	cfg := sim.config(Config{Ports: []int{port}, Echo: true, Duration: 300 * time.Millisecond, Warmup: 130 * time.Millisecond,
		Concurrency: 16, Mix: Mix{KindGetHost: 8, KindGetRoute: 1, KindReport: 1}, Modids: Range{1, 100}})
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkIdentities(t, rep)
	if rep.Received == 0 || rep.Received != rep.Sent || rep.Timeouts != 0 || rep.Malformed != 0 || rep.ReportsSent == 0 {
		t.Errorf("sent %d received %d timeouts %d malformed %d reports %d: want every request answered, reports sent",
			rep.Sent, rep.Received, rep.Timeouts, rep.Malformed, rep.ReportsSent)
	}
	if l := rep.LatencyUS; !l.Exact || l.Min != 1000 || l.Max != 1000 {
		t.Errorf("latency %+v: want exactly 1000us each", l)
	}
	t.Logf("sent %d, %d reports, rate %.0f/s", rep.Sent, rep.ReportsSent, rep.Rate)
}

// checkIdentities asserts the identities Report documents.
func checkIdentities(t *testing.T, rep *report.Report) {
	t.Helper()
	for _, ts := range []report.TypeStats{rep.ByType.GetHost, rep.ByType.GetRoute} {
		if ts.Sent != ts.Received+ts.Timeouts {
			t.Errorf("type: sent %d != received %d + timeouts %d", ts.Sent, ts.Received, ts.Timeouts)
		}
		if ts.LatencyUS.Count != ts.Received {
			t.Errorf("latency count %d != received %d", ts.LatencyUS.Count, ts.Received)
		}
	}
	if rep.Sent != rep.Received+rep.Timeouts {
		t.Errorf("sent %d != received %d + timeouts %d", rep.Sent, rep.Received, rep.Timeouts)
	}
	if rep.Retcodes.Sum() != rep.ByType.GetHost.Received {
		t.Errorf("retcodes sum %d != get_host received %d", rep.Retcodes.Sum(), rep.ByType.GetHost.Received)
	}
	var s report.Second
	for _, x := range rep.Seconds {
		s.Sent += x.Sent
		s.Received += x.Received
		s.Timeouts += x.Timeouts
	}
	if s.Sent != rep.Sent || s.Received != rep.Received || s.Timeouts != rep.Timeouts {
		t.Errorf("series sums sent %d received %d timeouts %d, totals %d %d %d", s.Sent, s.Received, s.Timeouts, rep.Sent, rep.Received, rep.Timeouts)
	}
}
