package api_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/route"
)

func TestGetHostSuccess(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	h1, h2 := hostFor(1, 2), route.FromWire(-1062731519, 8080) // 192.168.1.1, negative on the wire
	a.SetRoute(1, 2, h1, h2)
	got := map[api.Host]int{}
	for range 4 {
		h, err := c.GetHost(context.Background(), 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		got[h]++
	}
	if got[h1] != 2 || got[h2] != 2 {
		t.Fatalf("got hosts %v, want %v and %v twice each", got, h1, h2)
	}
	reqs := a.Requests()
	if len(reqs) != 4 {
		t.Fatalf("agent got %d requests, want 4", len(reqs))
	}
	for i, r := range reqs {
		if r.MsgID != codec.MsgGetHostRequest || r.Modid != 1 || r.Cmdid != 2 {
			t.Errorf("request %d = %+v", i, r)
		}
		if i > 0 && r.Seq <= reqs[i-1].Seq {
			t.Errorf("seq %d after %d: not increasing", r.Seq, reqs[i-1].Seq)
		}
	}
	if s := c.Stats(); s.Sent != 4 || s.Received != 4 || s.Late != 0 || s.Malformed != 0 || s.Timeouts != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestGetHostRetcodes(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	for _, tc := range []struct {
		name    string
		retcode int32 // forced; 0 leaves the key without route
		want    error
	}{
		{"overload", 1, api.ErrOverload},
		{"system", 2, api.ErrSystem},
		{"noexist", 3, api.ErrNoExist},
		{"no route", 0, api.ErrNoExist},
		{"unknown retcode", 7, api.ErrSystem},
	} {
		t.Run(tc.name, func(t *testing.T) {
			modid := int32(100 + tc.retcode)
			a.SetRetcode(modid, 1, tc.retcode)
			h, err := c.GetHost(context.Background(), modid, 1)
			if !errors.Is(err, tc.want) || h != (api.Host{}) {
				t.Fatalf("GetHost = %v, %v; want %v", h, err, tc.want)
			}
		})
	}
}

func TestGetHostContext(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	a.SetRoute(1, 1, hostFor(1, 1))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetHost(ctx, 1, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := c.GetHost(ctx, 1, 1); !errors.Is(err, api.ErrTimeout) {
		t.Errorf("past deadline: %v, want ErrTimeout", err)
	}
	if n := a.Count(codec.MsgGetHostRequest); n != 0 {
		t.Errorf("%d requests sent for done contexts", n)
	}
}

func TestReport(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	h := route.FromWire(-1, 65535) // 255.255.255.255
	if err := c.Report(7, 9, h, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Report(7, 9, hostFor(7, 9), 0); err != nil {
		t.Fatal(err)
	}
	if !a.WaitCount(codec.MsgReportRequest, 2, patience) {
		t.Fatal("reports did not arrive")
	}
	want := []struct {
		host    api.Host
		retcode int32
	}{{h, 1}, {hostFor(7, 9), 0}}
	for i, r := range a.Reports() {
		if r.Modid != 7 || r.Cmdid != 9 || r.Host != want[i].host || r.Retcode != want[i].retcode ||
			r.Port != c.Port(7, 9) {
			t.Errorf("report %d = %+v, want key (7, 9), %+v on port %d", i, r, want[i], c.Port(7, 9))
		}
	}
	if n := a.Count(codec.MsgGetHostRequest) + a.Count(codec.MsgAPIGetRouteRequest); n != 0 {
		t.Errorf("report sent %d other requests", n)
	}
}

// TestReportLatency: ReportLatency sends the latency_us extension; a plain Report sent
// from the same slot afterwards leaves it out.
func TestReportLatency(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	h := hostFor(3, 4)
	if err := c.ReportLatency(3, 4, h, 0, 1500*time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if err := c.ReportLatency(3, 4, h, 1, 10*time.Nanosecond); err != nil { // under 1 us: sent as 1
		t.Fatal(err)
	}
	if err := c.Report(3, 4, h, 0); err != nil {
		t.Fatal(err)
	}
	if !a.WaitCount(codec.MsgReportRequest, 3, patience) {
		t.Fatal("reports did not arrive")
	}
	want := []uint32{1500, 1, 0}
	for i, r := range a.Reports() {
		if r.LatencyUS != want[i] || r.Host != h {
			t.Errorf("report %d: latency_us %d host %+v, want %d %+v", i, r.LatencyUS, r.Host, want[i], h)
		}
	}
}
