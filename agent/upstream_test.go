package agent_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// fastSettings are the Lars settings with the timeouts the tests wait for shortened.
func fastSettings() lb.Settings {
	s := lb.DefaultSettings()
	s.UpdateTimeout = 300 * time.Millisecond
	s.PullTimeout = 200 * time.Millisecond
	s.ReportInterval = 250 * time.Millisecond
	return s
}

var (
	h1 = route.FromWire(ip("10.1.0.1"), 9001)
	h2 = route.FromWire(ip("10.1.0.2"), 9002)
	h3 = route.FromWire(ip("10.1.0.3"), 9003)
)

func startWithRouteService(t *testing.T, dns *larstest.FakeRouteService) (*agent.Agent, *client) {
	t.Helper()
	a := startAgent(t, agent.Config{RouteService: []string{dns.Addr()}, SweepInterval: 10 * time.Millisecond,
		Table: lb.Config{Settings: fastSettings()}})
	return a, dial(t, a.Addrs()[0])
}

// waitRoute polls get_route until it lists exactly want, in any order.
func waitRoute(t *testing.T, c *client, modid, cmdid int32, want ...route.Host) {
	t.Helper()
	eventually(t, patience, "route "+route.Host{}.String(), func() bool {
		return slices.Equal(hostSet(c.getRoute(modid, cmdid)), hostSet(want))
	})
}

func TestRouteServicePullPushRemove(t *testing.T) {
	larstest.CheckGoroutines(t, patience)
	dns := larstest.NewRouteService(t)
	dns.SetRoute(1, 1, h1, h2)
	a, c := startWithRouteService(t, dns)

	// Unknown key: RET_NOEXIST, one pull, then the hosts.
	if m := c.getHost(1, 1, 1); m.Retcode != int32(codec.RetNoExist) {
		t.Fatalf("first answer %v, want RET_NOEXIST", m)
	}
	eventually(t, patience, "hosts after the pull", func() bool { return c.getHost(2, 1, 1).Retcode == 0 })
	waitRoute(t, c, 1, 1, h1, h2)
	if n := dns.RequestCount(1, 1); n < 1 {
		t.Fatalf("%d pulls", n)
	}

	// A pushed change: h1 leaves, h3 joins. h1 is never chosen again.
	dns.SetRoute(1, 1, h2, h3)
	waitRoute(t, c, 1, 1, h2, h3)
	for i := range 20 {
		m := c.getHost(uint32(10+i), 1, 1)
		if got := (route.FromWire(m.Host.GetIp(), m.Host.GetPort())); got == h1 {
			t.Fatal("removed host chosen")
		}
	}

	// Removal of the key: no hosts any more.
	dns.RemoveRoute(1, 1)
	eventually(t, patience, "key removed", func() bool { return c.getHost(40, 1, 1).Retcode == int32(codec.RetNoExist) })
	if got := c.getRoute(1, 1); len(got) != 0 {
		t.Fatalf("route %v after removal", got)
	}
	_ = a
}

func TestRouteServiceRestartAndDown(t *testing.T) {
	larstest.CheckGoroutines(t, patience)
	dns := larstest.NewRouteService(t)
	dns.SetRoute(1, 1, h1)
	a, c := startWithRouteService(t, dns)
	c.getHost(1, 1, 1)
	waitRoute(t, c, 1, 1, h1)

	// Down: the last known routes keep being served, also once they are older than
	// update_timeout and a refresh pull went unanswered past pull_timeout (retried).
	if err := dns.Close(); err != nil {
		t.Fatal(err)
	}
	// A retry is queued again (PullRetries) or, still waiting in the queue of a link
	// that is down, skipped (PullsSkipped).
	unanswered := func() uint64 { st := a.Table().Stats(); return st.PullRetries + st.PullsSkipped }
	before := unanswered()
	seq := uint32(0)
	eventually(t, patience, "a refresh pull unanswered past pull_timeout while the service is down", func() bool {
		seq++
		if m := c.getHost(seq, 1, 1); m.Retcode != 0 || m.Host.GetIp() != wireIP(h1) {
			t.Fatalf("stale route not served while the service is down: %v", m)
		}
		return unanswered() > before
	})
	for i := range 20 {
		if m := c.getHost(uint32(100+i), 1, 1); m.Retcode != 0 || m.Host.GetIp() != wireIP(h1) {
			t.Fatalf("stale route not served after refresh pulls went nowhere: %v", m)
		}
	}

	// Back: the agent reconnects, pulls again, and sees the new route.
	dns.SetRoute(1, 1, h2)
	if err := dns.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := dns.WaitAccepted(2, patience); err != nil {
		t.Fatal(err)
	}
	waitRoute(t, c, 1, 1, h2)
}

func TestReportServiceStatusAtMostOncePerInterval(t *testing.T) {
	larstest.CheckGoroutines(t, patience)
	rep := larstest.NewReportService(t)
	routes := map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: {h1, h2}, {Modid: 2, Cmdid: 2}: {h3}}
	// The table's clock moves only when the test says, and the test sweeps the table
	// itself (the agent's own sweep is an hour away): whether a status is due depends
	// on table time alone, never on how fast the machine sends or sweeps.
	clock := fakeclock.New()
	s := fastSettings()
	a := startAgent(t, agent.Config{Routes: routes, ReportService: rep.Addr(), SweepInterval: time.Hour,
		Table: lb.Config{Settings: s, Clock: clock.Now}})
	table := a.Table()
	c := dial(t, a.Addrs()[0])
	// Statuses taken while the report link is down are dropped (best effort): sweep
	// only once it is up.
	eventually(t, patience, "the report link up", func() bool {
		return hasMetrics(a, `lars_agent_report_service_connected{addr="`+rep.Addr()+`"} 1`)
	})
	succ, errs := 0, 0
	sweep := func() uint64 {
		table.Sweep()
		return table.Stats().StatusEmitted
	}
	reports := func(seq uint32) {
		for range 10 {
			c.report(1, 1, h1, 0)
			c.report(1, 1, h2, 1)
			succ++
			errs++
		}
		c.getHost(seq, 1, 1) // the reports before it have been handled
	}
	// Five intervals of reports on key (1,1) only: h1 succeeds, h2 fails every time.
	// The key's first status leaves at the first sweep; each later one once a whole
	// interval of table time has passed since the one before.
	const intervals = 5
	reports(0)
	if got := sweep(); got != 1 {
		t.Fatalf("%d statuses emitted at the first sweep, want 1", got)
	}
	for i := 1; i < intervals; i++ {
		reports(uint32(i))
		clock.Advance(s.ReportInterval - time.Millisecond)
		if got := sweep(); got != uint64(i) {
			t.Fatalf("interval %d: %d statuses emitted before the interval passed, want %d", i, got, i)
		}
		clock.Advance(time.Millisecond)
		if got := sweep(); got != uint64(i+1) {
			t.Fatalf("interval %d: %d statuses emitted once the interval passed, want %d", i, got, i+1)
		}
		if got := sweep(); got != uint64(i+1) {
			t.Fatalf("interval %d: a second status in the same interval (%d emitted)", i, got)
		}
	}
	got, err := rep.WaitReports(intervals, patience)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != intervals {
		t.Fatalf("%d status messages reached the report service, want the %d emitted", len(got), intervals)
	}
	for _, r := range got {
		if r.Msg.Modid != 1 || r.Msg.Cmdid != 1 {
			t.Fatalf("status for key (%d,%d) that had no reports", r.Msg.Modid, r.Msg.Cmdid)
		}
		if r.Msg.Caller == 0 || r.Msg.Ts == 0 || len(r.Msg.Results) != 2 {
			t.Fatalf("status %v", r.Msg)
		}
	}
	// The window's counts of the last status are every report sent (idle_timeout 15 s
	// of table time has not passed).
	final := got[len(got)-1].Msg
	for _, res := range final.Results {
		h := route.FromWire(res.Ip, res.Port)
		switch h {
		case h1:
			if int(res.Succ) != succ || res.Err != 0 {
				t.Errorf("h1 counts %d/%d, want %d/0", res.Succ, res.Err, succ)
			}
		case h2:
			if int(res.Err) != errs && !res.Overload {
				t.Errorf("h2 counts %d/%d, want 0/%d or overloaded", res.Succ, res.Err, errs)
			}
			if !res.Overload {
				t.Errorf("h2 failed %d times in a row but is not overloaded", errs)
			}
		default:
			t.Errorf("unknown host %v in status", h)
		}
	}
}

// TestUnknownServiceNotPulledPerCall: the route service answers a key with no hosts;
// calls for it within the negative TTL (default 1 s) do not pull it again. The
// table's clock stands still, so every call falls within the TTL however slow the
// machine is.
func TestUnknownServiceNotPulledPerCall(t *testing.T) {
	larstest.CheckGoroutines(t, patience)
	dns := larstest.NewRouteService(t)
	a := startAgent(t, agent.Config{RouteService: []string{dns.Addr()}, SweepInterval: 10 * time.Millisecond,
		Table: lb.Config{Settings: fastSettings(), Clock: fakeclock.New().Now}})
	c := dial(t, a.Addrs()[0])
	c.getHost(1, 5, 5)
	if err := dns.WaitRequestCount(5, 5, 1, patience); err != nil {
		t.Fatal(err)
	}
	eventually(t, patience, "the empty answer applied", func() bool {
		return hasMetrics(a, "lars_agent_route_service_answers_applied_total 1")
	})
	for i := range 30 {
		if m := c.getHost(uint32(i), 5, 5); m.Retcode != int32(codec.RetNoExist) {
			t.Fatalf("answer %v", m)
		}
	}
	if n := dns.RequestCount(5, 5); n != 1 {
		t.Fatalf("%d pulls for a key the service does not have, want 1 within the negative TTL", n)
	}
}

// TestAdminLinkMetrics: /metrics shows each upstream link's state and counters under
// the service's name, and follows a lost connection.
func TestAdminLinkMetrics(t *testing.T) {
	larstest.CheckGoroutines(t, patience)
	dns := larstest.NewRouteService(t)
	rep := larstest.NewReportService(t)
	a := startAgent(t, agent.Config{RouteService: []string{dns.Addr()}, ReportService: rep.Addr()})
	eventually(t, patience, "both links connected", func() bool {
		return hasMetrics(a,
			`lars_agent_route_service_connected{addr="`+dns.Addr()+`"} 1`,
			"lars_agent_route_service_connects_total 1",
			"lars_agent_route_service_disconnects_total 0",
			"lars_agent_route_service_dial_errors_total 0",
			"lars_agent_route_service_failovers_total 0",
			"lars_agent_route_service_resubscriptions_total 1",
			"lars_agent_route_service_resubscribed_keys_total 0",
			"lars_agent_route_service_resubscribe_pending_keys 0",
			"lars_agent_route_service_hellos_sent_total 1", // the fake, like lars_dns, does not answer it
			`lars_agent_route_service_peer{kind="unknown"} 1`,
			`lars_agent_report_service_connected{addr="`+rep.Addr()+`"} 1`,
			"lars_agent_report_service_connects_total 1",
			"lars_agent_report_service_disconnects_total 0",
			"lars_agent_report_service_dial_errors_total 0",
		)
	})
	dns.Close()
	eventually(t, patience, "route link lost", func() bool {
		return hasMetrics(a,
			`lars_agent_route_service_connected{addr="`+dns.Addr()+`"} 0`,
			"lars_agent_route_service_connects_total 1",
			"lars_agent_route_service_disconnects_total 1",
			`lars_agent_report_service_connected{addr="`+rep.Addr()+`"} 1`,
		)
	})
	eventually(t, patience, "dial errors counted", func() bool {
		return !hasMetrics(a, "lars_agent_route_service_dial_errors_total 0")
	})
}

// TestRouteServiceFailover: the agent is given two route services; the first is
// closed and the agent fails over to the second, keeps serving, and pulls every key
// it knows again there, so the second's pushes reach it.
func TestRouteServiceFailover(t *testing.T) {
	larstest.CheckGoroutines(t, patience)
	first, second := larstest.NewRouteService(t), larstest.NewRouteService(t)
	for _, s := range []*larstest.FakeRouteService{first, second} {
		s.SetRoute(1, 1, h1)
		s.SetRoute(2, 2, h2)
	}
	// Routes change by pushes only: the table's clock stands still, so no refresh
	// (update_timeout) or retried pull (pull_timeout) of a slow machine can add a pull.
	a := startAgent(t, agent.Config{RouteService: []string{first.Addr(), second.Addr()}, SweepInterval: 10 * time.Millisecond,
		Table: lb.Config{Settings: fastSettings(), Clock: fakeclock.New().Now}})
	c := dial(t, a.Addrs()[0])
	c.getHost(1, 1, 1)
	c.getHost(2, 2, 2)
	waitRoute(t, c, 1, 1, h1)
	waitRoute(t, c, 2, 2, h2)
	if first.Subscribed(1, 1) != 1 || second.Accepted() != 0 {
		t.Fatalf("first subscribed %d, second accepted %d: want the first address", first.Subscribed(1, 1), second.Accepted())
	}

	first.Close()
	for i := range 20 { // serving goes on
		if m := c.getHost(uint32(10+i), 1, 1); m.Retcode != 0 || m.Host.GetIp() != wireIP(h1) {
			t.Fatalf("answer while failing over: %v", m)
		}
	}
	if err := second.WaitSubscriptions(2, patience); err != nil {
		t.Fatal(err)
	}
	eventually(t, patience, "connected to the second address", func() bool {
		return hasMetrics(a,
			`lars_agent_route_service_connected{addr="`+first.Addr()+`"} 0`,
			`lars_agent_route_service_connected{addr="`+second.Addr()+`"} 1`,
			"lars_agent_route_service_failovers_total 1",
			"lars_agent_route_service_resubscriptions_total 2",
		)
	})
	pulls := second.RequestTotal()
	second.SetRoute(2, 2, h3)
	waitRoute(t, c, 2, 2, h3)
	if n := second.RequestCount(2, 2); n != 1 || second.RequestTotal() != pulls {
		t.Fatalf("key 2/2 pulled %d times from the second address, want 1: the change must come by push", n)
	}
}

// hasMetrics reports whether the agent's /metrics holds every one of lines, whole.
func hasMetrics(a *agent.Agent, lines ...string) bool {
	var buf bytes.Buffer
	a.WriteMetrics(&buf)
	for _, l := range lines {
		if !strings.Contains(buf.String(), l+"\n") {
			return false
		}
	}
	return true
}

// TestReadmeListsEveryMetric keeps the README's metric list in step with /metrics.
func TestReadmeListsEveryMetric(t *testing.T) {
	readme, err := os.ReadFile("../docs/agent.md")
	if err != nil {
		t.Fatal(err)
	}
	dns := larstest.NewRouteService(t)
	rep := larstest.NewReportService(t)
	a := startAgent(t, agent.Config{RouteService: []string{dns.Addr()}, ReportService: rep.Addr(),
		CacheFile: filepath.Join(t.TempDir(), "routes.cache")})
	var buf bytes.Buffer
	a.WriteMetrics(&buf)
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		name, _, _ := strings.Cut(line, " ")
		name, _, _ = strings.Cut(name, "{")
		name = strings.TrimPrefix(name, "lars_agent_")
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && strings.HasPrefix(base, "batch_size") {
				name = base
			}
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		if !strings.Contains(string(readme), "`"+name+"`") && !strings.Contains(string(readme), "`"+name+"{") {
			t.Errorf("README.md does not list metric lars_agent_%s", name)
		}
	}
	if len(seen) < 20 {
		t.Fatalf("only %d metrics written: %v", len(seen), seen)
	}
}
