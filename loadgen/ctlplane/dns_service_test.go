package ctlplane

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
	"github.com/larsgo/lars/routesvc"
)

var quiet = slog.New(slog.DiscardHandler)

// The real route service on SQLite, the changes written to the store as larsctl
// writes them: every push arrives once per subscribed agent, the service's own count
// of pushes is the same, and every change reaches every agent. How soon is no verdict
// here (the fake tests time the pushes exactly): a push only has to come within 30s,
// which a working service meets however busy the machine.
func TestDNSAgainstRouteServiceOnSQLite(t *testing.T) {
	larstest.CheckGoroutines(t, generousWait)
	db := openStore(t)
	svc, admin := startRouteService(t, db, routesvc.Config{Poll: 50 * time.Millisecond, Logger: quiet})
	rep, err := RunDNS(context.Background(), DNSConfig{Fleet: Fleet{Target: svc.Addr().String(), Agents: 40, Keys: 5, Modids: loadgen.Range{Lo: 7, Hi: 8}, Cmdids: loadgen.Range{Lo: 1, Hi: 25}, Spread: loadgen.Zipf},
		HostsPerKey: 2, Writer: db, ChangesPerSec: 25, Duration: time.Second, PushTimeout: generousWait, AdminURL: admin})
	if err != nil {
		t.Fatal(err)
	}
	checkPushIdentities(t, rep)
	p := rep.Pushes
	if p.Missing != 0 || p.LostClosed != 0 || p.Received == 0 || p.CompleteChanges != rep.Changes.Committed {
		t.Errorf("pushes %+v; want every one received", p)
	}
	// Each of the 25 changes goes to a key not changed before (there are more), so none
	// waits for an earlier one's pushes: all are made however slow the pushes.
	if rep.Changes.Committed != 25 || rep.Changes.Deferred != 0 || rep.DistinctKeys < 25 {
		t.Errorf("%d changes committed (%d deferred) over %d keys, want 25 (none deferred)", rep.Changes.Committed, rep.Changes.Deferred, rep.DistinctKeys)
	}
	// The service counts a push before it queues it: once every push has come, its
	// count is whole.
	if got := rep.Service["lars_dns_pushes_total"]; got != float64(p.Received) {
		t.Errorf("the service counted %.0f pushes, the agents received %d", got, p.Received)
	}
	if got := rep.Service["lars_dns_subscriptions"]; got != float64(rep.Subscriptions) || rep.Subscriptions != 200 {
		t.Errorf("the service holds %.0f subscriptions, the run %d; want 200", got, rep.Subscriptions)
	}
	if n := uint64(rep.Changes.Committed); p.FirstMS.Count != n || p.LastMS.Count != n || p.LastMS.Max < p.FirstMS.Max {
		t.Errorf("first push %+v, last %+v: want one of each for each of the %d changes, the last no sooner", p.FirstMS, p.LastMS, n)
	}
	if v := ctlreport.CheckDNS(stats.Objective{Limits: []stats.Limit{{Of: "push", Percentile: "p99", Max: generousWait}}}, rep); !v.Met {
		t.Errorf("objective missed: %s", v.Reason)
	}
}

// A service over its connection limit closes the connections beyond it at once: they
// are counted as refused, and the others are served as usual.
func TestDNSRefusedConnectionsCounted(t *testing.T) {
	larstest.CheckGoroutines(t, generousWait)
	db := openStore(t)
	svc, _ := startRouteService(t, db, routesvc.Config{Poll: 30 * time.Millisecond, MaxConns: 6, Logger: quiet})
	rep, err := RunDNS(context.Background(), DNSConfig{Fleet: Fleet{Target: svc.Addr().String(), Agents: 9, Keys: 2, Cmdids: loadgen.Range{Lo: 1, Hi: 4}}, Writer: db, ChangesPerSec: 20, Duration: 500 * time.Millisecond, PushTimeout: generousWait, DialConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkPushIdentities(t, rep)
	if c := rep.Connections; c.Connected != 9 || c.Refused != 3 || c.ClosedByService != 0 || c.NotReady != 0 {
		t.Errorf("connections %+v; want 9 connected, 3 refused", c)
	}
	if rep.Subscriptions != 12 || rep.Pushes.Missing != 0 {
		t.Errorf("%d subscriptions (want 6 agents x 2), %d pushes missing", rep.Subscriptions, rep.Pushes.Missing)
	}
	if v := ctlreport.CheckDNS(stats.Objective{}, rep); v.Met {
		t.Error("a run with refused connections met the objective")
	}
}
