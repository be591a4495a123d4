package upstream

import (
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// longUpdateTimeout keeps update_timeout refreshes out of the tests: a route that
// reaches the table came by an answer to a pull or by a push.
func longUpdateTimeout() lb.Settings {
	s := lb.DefaultSettings()
	s.UpdateTimeout = time.Hour
	return s
}

// learnQueue is the pull queue of newPacedClient's tables: room for every key
// learnKeys asks for at once. Nothing sweeps these tables, so a pull dropped from a
// full queue (the client still connecting, on a busy machine) would never be sent.
const learnQueue = 4096

// newPacedClient returns a route client of a fresh table without refreshes, for the
// route services at addrs, re-subscribing rate keys a second in batches of batch.
func newPacedClient(rate, batch int, addrs ...string) (*RouteClient, *lb.Table) {
	tbl := lb.NewTable(lb.Config{Settings: longUpdateTimeout(), PullQueue: learnQueue})
	return NewRouteClient(RouteClientConfig{
		Addrs: addrs, Table: tbl, ResubscribeRate: rate, ResubscribeBatch: batch,
		Link: Link{Logger: quiet, DialTimeout: time.Second, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
	}), tbl
}

// learnKeys makes the table know keys (modid, 0..n-1) through the client: one get
// each, then waits until every key is answered and subscribed on dns.
func learnKeys(t *testing.T, tbl *lb.Table, dns *larstest.FakeRouteService, modid int32, n int) {
	t.Helper()
	if n > cap(tbl.Pulls()) {
		t.Fatalf("learning %d keys at once through a pull queue of %d", n, cap(tbl.Pulls()))
	}
	for i := range int32(n) {
		tbl.GetHost(modid, i)
	}
	if err := dns.WaitSubscriptions(n, wait); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every answer applied", func() bool {
		for i := range int32(n) {
			if ki, ok := tbl.Lookup(modid, i); !ok || ki.Pulling || len(ki.Hosts) == 0 {
				return false
			}
		}
		return true
	})
}

// setRoutes gives keys (modid, 0..n-1) the route hosts on dns.
func setRoutes(dns *larstest.FakeRouteService, modid int32, n int, hosts ...route.Host) {
	for i := range int32(n) {
		dns.SetRoute(modid, i, hosts...)
	}
}

// pulledOnce checks that reqs holds every key (modid, 0..n-1) exactly once, and
// nothing else.
func pulledOnce(t *testing.T, reqs []route.Key, modid int32, n int) {
	t.Helper()
	seen := make(map[route.Key]int, n)
	for _, k := range reqs {
		seen[k]++
	}
	for i := range int32(n) {
		if got := seen[route.Key{Modid: modid, Cmdid: i}]; got != 1 {
			t.Fatalf("key %d/%d pulled %d times on the new connection, want 1", modid, i, got)
		}
	}
	if len(reqs) != n {
		t.Fatalf("%d pulls on the new connection, want %d", len(reqs), n)
	}
}

// TestRouteClientResubscribesAfterReconnect is issue 16: known keys, no pull pending;
// the service restarts; every key is pulled again on the new connection, at the
// configured pace, and a change pushed right after reaches the table at once.
func TestRouteClientResubscribesAfterReconnect(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	const (
		n     = 2000
		rate  = 20000 // keys/s: n in 100 ms
		batch = 200
	)
	dns := larstest.NewRouteService(t)
	setRoutes(dns, 7, n, h1)
	c, tbl := newPacedClient(rate, batch, dns.Addr())
	run(t, c.Run)
	learnKeys(t, tbl, dns, 7, n)
	before, st0 := dns.RequestTotal(), c.Stats()

	if err := dns.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "disconnect seen", func() bool { return !c.Stats().Connected })
	if err := dns.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := dns.WaitSubscriptions(n, wait); err != nil {
		t.Fatal(err)
	}
	if dns.Active() != 1 {
		t.Fatalf("%d connections, want 1", dns.Active())
	}
	pulledOnce(t, dns.Requests()[before:], 7, n)

	// A change right after reaches the table by a push: update_timeout is an hour.
	pulls := dns.RequestTotal()
	pushed := time.Now()
	dns.SetRoute(7, 0, h2, h3)
	eventually(t, "pushed change applied", hasRoute(tbl, route.Key{Modid: 7}, h2, h3))
	t.Logf("push applied %v after the change", time.Since(pushed))
	if got := dns.RequestTotal(); got != pulls {
		t.Fatalf("%d pulls after the change: it must come by push", got-pulls)
	}

	eventually(t, "re-subscription done", func() bool { return c.Stats().Resubscribes == st0.Resubscribes+1 })
	st := c.Stats()
	if st.ResubscribedKeys-st0.ResubscribedKeys != n || st.ResubscribePending != 0 || st.Connects != 2 {
		t.Fatalf("stats %+v", st)
	}
	// Paced: the last batch goes out no sooner than (n-batch)/rate after the first,
	// on any machine. How soon after that depends on the machine; the pace itself is
	// checked on a scripted clock (TestResubscriptionPace).
	if min := time.Duration(n-batch) * time.Second / rate; st.LastResubscribe < min {
		t.Fatalf("%d keys re-subscribed in %v, faster than the pace allows (%v)", n, st.LastResubscribe, min)
	}
	t.Logf("%d keys re-subscribed in %v at %d keys/s", n, st.LastResubscribe, rate)
	for i := range int32(n) {
		if _, rc := tbl.GetHost(7, i); rc != codec.RetSucc {
			t.Fatalf("GetHost(7, %d) after the reconnect: %v", i, rc)
		}
	}
}

// TestRouteClientResubscribesOutstandingFirst: the keys whose pull was unanswered when
// the connection was lost are the first pulled on the next one.
func TestRouteClientResubscribesOutstandingFirst(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	dns := larstest.NewRouteService(t)
	setRoutes(dns, 8, 100, h1)
	c, tbl := newPacedClient(0, 0, dns.Addr())
	run(t, c.Run)
	learnKeys(t, tbl, dns, 8, 100)

	dns.SetSilent(true)
	tbl.GetHost(9, 1)
	tbl.GetHost(9, 2)
	if err := dns.WaitRequestCount(9, 2, 1, wait); err != nil {
		t.Fatal(err)
	}
	before := dns.RequestTotal()
	dns.Close()
	dns.SetSilent(false)
	if err := dns.Restart(); err != nil {
		t.Fatal(err)
	}
	reqs, err := dns.WaitRequests(before+102, wait)
	if err != nil {
		t.Fatal(err)
	}
	reqs = reqs[before:]
	first := map[route.Key]bool{reqs[0]: true, reqs[1]: true}
	if !first[route.Key{Modid: 9, Cmdid: 1}] || !first[route.Key{Modid: 9, Cmdid: 2}] {
		t.Fatalf("first pulls on the new connection %v, want the two outstanding keys", reqs[:2])
	}
	pulledOnce(t, reqs[2:], 8, 100)
}

// TestRouteClientResubscribeEmptyTable: a connection with nothing to pull counts its
// re-subscription done at once.
func TestRouteClientResubscribeEmptyTable(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	dns := larstest.NewRouteService(t)
	c, _ := newPacedClient(0, 0, dns.Addr())
	run(t, c.Run)
	eventually(t, "empty re-subscription", func() bool {
		st := c.Stats()
		return st.Connected && st.Resubscribes == 1 && st.ResubscribedKeys == 0 && st.ResubscribePending == 0
	})
}
