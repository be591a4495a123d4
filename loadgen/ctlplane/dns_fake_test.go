package ctlplane

import (
	"context"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/loadgen"
)

func TestDNSEveryPushCountedOnceAgainstFake(t *testing.T) {
	larstest.CheckGoroutines(t, 5*time.Second)
	svc, w := newFakeDNS(t, 30*time.Millisecond)
	rep, err := RunDNS(context.Background(), DNSConfig{Fleet: Fleet{Target: svc.Addr(), Agents: 30, Keys: 4, Cmdids: loadgen.Range{Lo: 1, Hi: 20}}, HostsPerKey: 3, Writer: w, ChangesPerSec: 40, Duration: 800 * time.Millisecond, PushTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w.pending.Wait()
	checkPushSums(t, rep)
	p := rep.Pushes
	if rep.Changes.Committed != 32 || rep.Changes.Failed != 0 {
		t.Errorf("%d changes committed, %d failed; want 32 (40/s for 0.8s), 0", rep.Changes.Committed, rep.Changes.Failed)
	}
	if owed := uint64(w.owed()); p.Expected != owed || p.Received != owed || p.Missing != 0 || p.LostClosed != 0 {
		t.Errorf("pushes: expected %d, received %d, missing %d, lost %d; the fake owed %d", p.Expected, p.Received, p.Missing, p.LostClosed, owed)
	}
	if p.CompleteChanges != rep.Changes.Committed {
		t.Errorf("%d of %d changes reached every agent", p.CompleteChanges, rep.Changes.Committed)
	}
	if rep.Subscriptions != 30*4 || rep.Pulls.Sent != 120 || rep.Pulls.Answered != 120 || rep.Pulls.LatencyMS.Count != 120 {
		t.Errorf("subscriptions %d, pulls sent %d answered %d (latencies %d); want 120 each", rep.Subscriptions, rep.Pulls.Sent, rep.Pulls.Answered, rep.Pulls.LatencyMS.Count)
	}
	if c := rep.Connections; c.Connected != 30 || c.Refused+c.ClosedByService != 0 || c.NotReady != 0 {
		t.Errorf("connections %+v", c)
	}
	// The fake pushes 30ms after it took each write, and the write returns (the commit,
	// from which latencies count) at most the longest write later: no latency is under
	// 30ms less that, and the first agent gets each change soon after.
	floor := 30 - rep.Changes.WriteMS.Max
	if p.LatencyMS.Min < floor || p.FirstMS.Min < floor || p.LastMS.Min < p.FirstMS.Min {
		t.Errorf("latency from the commit: every push min %.2fms, first %.2fms, last %.2fms; want >= %.2fms (30ms less the longest write)", p.LatencyMS.Min, p.FirstMS.Min, p.LastMS.Min, floor)
	}
	if p.FirstMS.P50 > 500 {
		t.Errorf("first push p50 %.1fms: the fake pushes 30ms after the commit", p.FirstMS.P50)
	}
}

func TestDNSConnectionsClosedByServiceAreCounted(t *testing.T) {
	larstest.CheckGoroutines(t, 5*time.Second)
	svc, w := newFakeDNS(t, 40*time.Millisecond)
	// After the 10th change, the fake drops every connection: the pushes still owed
	// to them are lost with them; every later change is owed to nobody.
	w.afterChange = func(n int) {
		if n == 10 {
			svc.CloseConns()
		}
	}
	rep, err := RunDNS(context.Background(), DNSConfig{Fleet: Fleet{Target: svc.Addr(), Agents: 12, Keys: 3, Cmdids: loadgen.Range{Lo: 1, Hi: 6}}, Writer: w, ChangesPerSec: 50, Duration: 600 * time.Millisecond, PushTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w.pending.Wait()
	p := rep.Pushes
	if p.Expected != p.Received+p.LostClosed+p.Missing || p.Missing != 0 {
		t.Errorf("expected %d, received %d, lost %d, missing %d: want every expected push received or lost with its connection", p.Expected, p.Received, p.LostClosed, p.Missing)
	}
	if p.LostClosed == 0 {
		t.Errorf("no push lost with the closed connections; the 10th change was in flight (%+v)", p)
	}
	if c := rep.Connections; c.ClosedByService != 12 || c.Refused != 0 {
		t.Errorf("closed by the service %d, refused %d; want 12, 0", c.ClosedByService, c.Refused)
	}
	v := Objective{}.Check(rep)
	if v.Met {
		t.Error("a run whose connections the service closed met the objective")
	}
}
