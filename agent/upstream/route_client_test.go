package upstream

import (
	"net/netip"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

var k12 = route.Key{Modid: 1, Cmdid: 2}

// newRouteClient returns a route client of a fresh table, with short backoffs, for the
// route service at addrs.
func newRouteClient(addrs ...string) (*RouteClient, *lb.Table) {
	tbl := lb.NewTable(lb.Config{})
	return NewRouteClient(RouteClientConfig{
		Addrs: addrs, Table: tbl,
		Link: Link{Logger: quiet, DialTimeout: time.Second, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
	}), tbl
}

// pull asks the table for k, which queues its pull, and waits for the answer to make
// GetHost succeed.
func pull(t *testing.T, tbl *lb.Table, k route.Key) route.Host {
	t.Helper()
	if _, rc := tbl.GetHost(k.Modid, k.Cmdid); rc != codec.RetNoExist {
		t.Fatalf("first GetHost of %v: %v, want noexist", k, rc)
	}
	var h netip.AddrPort
	eventually(t, "route answer applied", func() bool {
		var rc codec.RetCode
		h, rc = tbl.GetHost(k.Modid, k.Cmdid)
		return rc == codec.RetSucc
	})
	return route.HostAt(h)
}

func TestRouteClientPull(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	dns := larstest.NewRouteService(t)
	dns.SetRoute(1, 2, h1, h2)
	c, tbl := newRouteClient(dns.Addr())
	run(t, c.Run)

	if h := pull(t, tbl, k12); h != h1 && h != h2 {
		t.Fatalf("GetHost returned %v, not a host of the route", h)
	}
	if got := dns.Requests(); len(got) != 1 || got[0] != k12 {
		t.Fatalf("route service got %v, want one pull of %v", got, k12)
	}
	eventually(t, "stats", func() bool { // counted after the write and after the apply
		st := c.Stats()
		return st.Connected && st.Connects == 1 && st.PullsSent == 1 && st.AnswersApplied == 1
	})
}

func TestRouteClientBatchesPulls(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	dns := larstest.NewRouteService(t)
	c, tbl := newRouteClient(dns.Addr())
	const n = 300 // more than one batch
	for i := range int32(n) {
		tbl.GetHost(100, i) // queued before the client runs
	}
	run(t, c.Run)
	got, err := dns.WaitRequests(n, wait)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[route.Key]bool{}
	for _, k := range got {
		if seen[k] {
			t.Fatalf("key %v pulled twice", k) // queued, then listed by Reconnected: sent once
		}
		seen[k] = true
	}
	eventually(t, "every empty answer applied", func() bool { return tbl.Stats().Keys == 0 })
}

func TestRouteClientPushes(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	dns := larstest.NewRouteService(t)
	dns.SetRoute(1, 2, h1, h2)
	c, tbl := newRouteClient(dns.Addr())
	run(t, c.Run)
	pull(t, tbl, k12)

	dns.SetRoute(1, 2, h1, h2, h3)
	eventually(t, "host added", hasRoute(tbl, k12, h1, h2, h3))
	dns.SetRoute(1, 2, h3)
	eventually(t, "hosts removed", hasRoute(tbl, k12, h3))
	if h, rc := tbl.GetHost(1, 2); rc != codec.RetSucc || h != h3.Addr {
		t.Fatalf("GetHost after push: %v %v, want %v", h, rc, h3)
	}
	dns.RemoveRoute(1, 2)
	eventually(t, "key removed", func() bool { _, ok := routeOf(tbl, k12); return !ok })
	eventually(t, "stats", func() bool { st := c.Stats(); return st.AnswersApplied == 4 && st.Connects == 1 })
}

func TestRouteClientServiceRestart(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	dns := larstest.NewRouteService(t)
	dns.SetRoute(1, 2, h1)
	c, tbl := newRouteClient(dns.Addr())
	run(t, c.Run)
	pull(t, tbl, k12)

	// A pull the service receives but never answers, then the service restarts.
	k34 := route.Key{Modid: 3, Cmdid: 4}
	dns.SetSilent(true)
	tbl.GetHost(3, 4)
	if err := dns.WaitRequestCount(3, 4, 1, wait); err != nil {
		t.Fatal(err)
	}
	if err := dns.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "disconnect seen", func() bool { return !c.Stats().Connected })
	dns.SetSilent(false)
	dns.SetRoute(3, 4, h2)
	if err := dns.Restart(); err != nil {
		t.Fatal(err)
	}

	// The client reconnects, pulls the unanswered key again, and gets its answer.
	if err := dns.WaitRequestCount(3, 4, 2, wait); err != nil {
		t.Fatal(err)
	}
	eventually(t, "re-pulled route applied", hasRoute(tbl, k34, h2))
	// The answered key is pulled again too: the new connection holds no subscription.
	if err := dns.WaitRequestCount(1, 2, 2, wait); err != nil {
		t.Fatal(err)
	}
	// Pushes reach the new connection for the keys it asked for.
	dns.SetRoute(3, 4, h2, h3)
	eventually(t, "push after restart", hasRoute(tbl, k34, h2, h3))
	// The route answered before the restart is still served.
	if h, rc := tbl.GetHost(1, 2); rc != codec.RetSucc || h != h1.Addr {
		t.Fatalf("GetHost(1, 2) after restart: %v %v", h, rc)
	}
	st := c.Stats()
	if !st.Connected || st.Connects != 2 || st.Disconnects != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRouteClientServiceDown(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	dns := larstest.NewRouteService(t)
	dns.SetRoute(1, 2, h1)
	c, tbl := newRouteClient(dns.Addr())
	stop := run(t, c.Run)
	pull(t, tbl, k12)

	dns.Close()
	eventually(t, "several failed dials", func() bool { return c.Stats().DialErrors >= 3 })
	// Stale routes keep being served; new pulls wait in the table's queue.
	if h, rc := tbl.GetHost(1, 2); rc != codec.RetSucc || h != h1.Addr {
		t.Fatalf("GetHost while down: %v %v, want %v", h, rc, h1)
	}
	tbl.GetHost(5, 6)
	eventually(t, "a few more failed dials", func() bool { return c.Stats().DialErrors >= 6 })
	if n := len(tbl.Pulls()); n != 1 {
		t.Fatalf("%d pulls queued while down, want 1 (not drained)", n)
	}
	if st := c.Stats(); st.Connected || st.Connects != 1 || st.Disconnects != 1 {
		t.Fatalf("stats %+v", st)
	}
	stop() // fails the test if Run does not return
}

func TestRouteClientCancelDuringLongBackoff(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	dns := larstest.NewRouteService(t)
	dns.Close() // nothing listens there
	// A backoff of at least half an hour (EqualJitter), far beyond the wait bound.
	c := NewRouteClient(RouteClientConfig{
		Addrs: []string{dns.Addr()}, Table: lb.NewTable(lb.Config{}),
		Link: Link{Logger: quiet, MinBackoff: time.Hour, MaxBackoff: time.Hour},
	})
	stop := run(t, c.Run)
	eventually(t, "first dial failed", func() bool { return c.Stats().DialErrors == 1 })
	// stop fails the test unless Run returns within wait: only a backoff that the
	// cancellation cuts short does.
	stop()
}

func TestRouteClientProtocolError(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	dns := larstest.NewRouteService(t)
	dns.SetRoute(1, 2, h1)
	c, tbl := newRouteClient(dns.Addr())
	run(t, c.Run)
	pull(t, tbl, k12)

	// Frames the client drops and counts, keeping the connection.
	unknown, _ := codec.AppendFrame(nil, codec.MsgGetHostResponse, &larspb.GetHostResponse{Seq: 1})
	garbage := codec.AppendHeader(nil, codec.MsgGetRouteResponse, 3)
	garbage = append(garbage, 0x1a, 0x05, 0x08) // host field longer than the body
	if n := dns.SendRaw(append(unknown, garbage...)); n != 1 {
		t.Fatalf("sent to %d connections", n)
	}
	eventually(t, "bad frames counted", func() bool { return c.Stats().BadFrames == 2 })
	dns.SetRoute(1, 2, h2) // the stream is still in sync
	eventually(t, "push after bad frames", hasRoute(tbl, k12, h2))

	// A negative length: the connection is closed and made again.
	dns.SendRaw([]byte{2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	eventually(t, "reconnected after protocol error", func() bool {
		st := c.Stats()
		return st.ProtocolErrors == 1 && st.Connects == 2 && st.Connected
	})
	if st := c.Stats(); st.Disconnects != 1 || st.BadFrames != 2 {
		t.Fatalf("stats %+v", st)
	}
	if err := dns.WaitAccepted(2, wait); err != nil {
		t.Fatal(err)
	}
}
