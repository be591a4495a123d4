package upstream

import (
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

func TestLinkFailoverRounds(t *testing.T) {
	l := newLink(Link{Logger: quiet}.config("route service", []string{"a:1", "b:2", "c:3"}))
	var addrs []string
	var rounds []bool
	for range 6 {
		addrs = append(addrs, l.addr())
		rounds = append(rounds, l.failed())
	}
	wantAddrs := []string{"a:1", "b:2", "c:3", "a:1", "b:2", "c:3"}
	wantRounds := []bool{false, false, true, false, false, true} // backoff once per round
	for i := range addrs {
		if addrs[i] != wantAddrs[i] || rounds[i] != wantRounds[i] {
			t.Fatalf("attempt %d: %s round done %v, want %s %v", i, addrs[i], rounds[i], wantAddrs[i], wantRounds[i])
		}
	}
	if st := l.stats(); st.Failovers != 6 || st.Connected || st.Addr != "" {
		t.Fatalf("stats %+v", st)
	}
	// A healthy connection (lived ResetAfter) starts the count over: its loss moves
	// to the next address at once.
	l.failed() // a:1 failed, now on b:2
	l.up(nil)
	if st := l.stats(); !st.Connected || st.Addr != "b:2" {
		t.Fatalf("stats after up %+v", st)
	}
	l.upSince = time.Now().Add(-l.resetAfter)
	l.down(errClosedByPeer)
	if l.failed() || l.addr() != "c:3" {
		t.Fatalf("loss of a healthy connection: round done, or on %s, not c:3", l.addr())
	}

	// One address: every failure is a whole round, as before failover existed.
	one := newLink(Link{Logger: quiet}.config("route service", []string{"a:1"}))
	for i := range 3 {
		if !one.failed() || one.addr() != "a:1" {
			t.Fatalf("single address, failure %d: no backoff, or moved to %s", i, one.addr())
		}
	}
	if st := one.stats(); st.Failovers != 0 {
		t.Fatalf("single address counted %d failovers", st.Failovers)
	}
}

// TestRouteClientFailsOverFromDeadAddress: the first address does not answer; the
// client connects to the second, and moves back to the first (wrapping around) when
// the second goes away, pulling every key again there.
func TestRouteClientFailsOverFromDeadAddress(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	first, second := larstest.NewRouteService(t), larstest.NewRouteService(t)
	first.Close() // nothing listens there
	for _, s := range []*larstest.FakeRouteService{first, second} {
		setRoutes(s, 5, 10, h1)
	}
	c, tbl := newPacedClient(0, 0, first.Addr(), second.Addr())
	run(t, c.Run)
	learnKeys(t, tbl, second, 5, 10)
	if st := c.Stats(); !st.Connected || st.Addr != second.Addr() || st.DialErrors == 0 || st.Failovers == 0 {
		t.Fatalf("stats %+v, want connected to the second address after a failed dial", st)
	}

	if err := first.Restart(); err != nil {
		t.Fatal(err)
	}
	second.Close()
	if err := first.WaitSubscriptions(10, wait); err != nil {
		t.Fatal(err)
	}
	eventually(t, "connected to the first address", func() bool { return c.Stats().Addr == first.Addr() })
	first.SetRoute(5, 3, h2)
	eventually(t, "push from the first address", hasRoute(tbl, route.Key{Modid: 5, Cmdid: 3}, h2))
}

// TestRouteClientFailsOverWhenConnectionLost: connected to the first address, which
// goes away; the client moves to the second at once, keeps serving, and every key is
// pulled again there, so pushes from the second reach it.
func TestRouteClientFailsOverWhenConnectionLost(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	first, second := larstest.NewRouteService(t), larstest.NewRouteService(t)
	const n = 500
	for _, s := range []*larstest.FakeRouteService{first, second} {
		setRoutes(s, 6, n, h1)
	}
	tbl := lb.NewTable(lb.Config{Settings: longUpdateTimeout()})
	c := NewRouteClient(RouteClientConfig{
		Addrs: []string{first.Addr(), second.Addr()}, Table: tbl,
		// A backoff far longer than the test's waits (at least half an hour):
		// failing over must not wait for it.
		Link: Link{Logger: quiet, MinBackoff: time.Hour, MaxBackoff: time.Hour},
	})
	run(t, c.Run)
	learnKeys(t, tbl, first, 6, n)
	if st := c.Stats(); st.Addr != first.Addr() || second.Accepted() != 0 {
		t.Fatalf("stats %+v, second accepted %d: want the first address", st, second.Accepted())
	}

	first.Close()
	start := time.Now()
	for second.Subscriptions() < n { // serving goes on while the client fails over
		for i := range int32(n) {
			if h, rc := tbl.GetHost(6, i); rc != codec.RetSucc || h != h1.Addr {
				t.Fatalf("GetHost(6, %d) while failing over: %v %v", i, h, rc)
			}
		}
		if time.Since(start) > wait {
			t.Fatalf("%d keys subscribed on the second address, want %d", second.Subscriptions(), n)
		}
	}
	pulledOnce(t, second.Requests(), 6, n)
	t.Logf("failed over and re-pulled %d keys in %v", n, time.Since(start))
	eventually(t, "connected to the second address", func() bool {
		st := c.Stats()
		return st.Connected && st.Addr == second.Addr() && st.Failovers == 1 && st.Disconnects == 1 && st.DialErrors == 0
	})
	second.SetRoute(6, 7, h3)
	eventually(t, "push from the second address", hasRoute(tbl, route.Key{Modid: 6, Cmdid: 7}, h3))
}
