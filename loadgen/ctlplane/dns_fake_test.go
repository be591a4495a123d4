package ctlplane

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
)

// Against a fake service on the bubble's clock, where each write takes 4ms and its
// push goes out 30ms after the write was called: every push is counted once, and every
// latency is exactly 26ms, counted from the commit (the write's return), not from the
// call; the per-second series cuts the run at whole seconds and adds up to the totals.
func TestDNSEveryPushCountedOnceAgainstFake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc, w := newFakeDNS(4*time.Millisecond, 30*time.Millisecond)
		rep, err := RunDNS(context.Background(), DNSConfig{Fleet: Fleet{Target: "fake:1", Agents: 30, Keys: 4, Cmdids: loadgen.Range{Lo: 1, Hi: 20}, dial: svc.dial},
			HostsPerKey: 3, Writer: w, ChangesPerSec: 40, Duration: 2 * time.Second, PushTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		w.pending.Wait()
		checkPushSums(t, rep)
		p, ch := rep.Pushes, rep.Changes
		if ch.Made != 80 || ch.Committed != 80 || ch.Failed != 0 || ch.Deferred != 0 {
			t.Errorf("changes %+v; want 80 made and committed (40/s for 2s), none failed or deferred", ch)
		}
		if owed := uint64(w.owed()); p.Expected != owed || p.Received != owed || p.Missing != 0 || p.LostClosed != 0 {
			t.Errorf("pushes: expected %d, received %d, missing %d, lost %d; the fake owed %d", p.Expected, p.Received, p.Missing, p.LostClosed, owed)
		}
		if p.CompleteChanges != ch.Committed {
			t.Errorf("%d of %d changes reached every agent", p.CompleteChanges, ch.Committed)
		}
		if rep.Subscriptions != 30*4 || rep.Pulls.Sent != 120 || rep.Pulls.Answered != 120 || rep.Pulls.LatencyMS.Count != 120 {
			t.Errorf("subscriptions %d, pulls sent %d answered %d (latencies %d); want 120 each", rep.Subscriptions, rep.Pulls.Sent, rep.Pulls.Answered, rep.Pulls.LatencyMS.Count)
		}
		if c := rep.Connections; c.Connected != 30 || c.Refused+c.ClosedByService != 0 || c.NotReady != 0 {
			t.Errorf("connections %+v", c)
		}
		if wr := ch.WriteMS; wr.Count != 80 || wr.Min != 4 || wr.Max != 4 {
			t.Errorf("writes %+v; want 80 of 4ms", wr)
		}
		// first and last are exact; every push is in a histogram bucket (0.4%).
		for name, l := range map[string]ctlreport.Latency{"first": p.FirstMS, "last": p.LastMS} {
			if l.Count != 80 || l.Min != 26 || l.Max != 26 {
				t.Errorf("%s push %+v; want 80 of 26ms (the push 30ms after the call, the commit 4ms after it)", name, l)
			}
		}
		if l := p.LatencyMS; math.Abs(l.Min-26) > 0.11 || math.Abs(l.Max-26) > 0.11 {
			t.Errorf("every push %+v; want 26ms", l)
		}
		checkWholeSeconds(t, rep.Seconds, func(s ctlreport.DNSSecond) (float64, float64) { return s.T, s.Span })
		for _, s := range rep.Seconds {
			if s.PushRate != float64(s.Pushes)/s.Span || (s.Pushes > 0 && math.Abs(s.P50MS-26) > 0.11) {
				t.Errorf("second %+v: push rate or latency off", s)
			}
		}
	})
}

// checkWholeSeconds fails t unless the series has one entry a second, each ending a
// whole second after the first change and spanning exactly a second, but the last,
// which ends the run within a second after the one before.
func checkWholeSeconds[S any](t *testing.T, seconds []S, at func(S) (end, span float64)) {
	t.Helper()
	if len(seconds) == 0 {
		t.Fatal("no second recorded")
	}
	for i, s := range seconds {
		end, span := at(s)
		last := i == len(seconds)-1
		if (!last && (end != float64(i+1) || span != 1)) || (last && (end <= float64(i) || span <= 0 || span > 1.01)) {
			t.Errorf("second %d of %d ends at %vs and spans %vs: want whole seconds, the last one shorter", i, len(seconds), end, span)
		}
	}
}

// After the 10th change the fake drops every connection: the pushes still owed to
// them are lost with them, and every later change is owed to nobody.
func TestDNSConnectionsClosedByServiceAreCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc, w := newFakeDNS(0, 40*time.Millisecond)
		w.afterChange = func(n int) {
			if n == 10 {
				svc.CloseConns()
			}
		}
		rep, err := RunDNS(context.Background(), DNSConfig{Fleet: Fleet{Target: "fake:1", Agents: 12, Keys: 3, Cmdids: loadgen.Range{Lo: 1, Hi: 6}, dial: svc.dial},
			Writer: w, ChangesPerSec: 50, Duration: 600 * time.Millisecond, PushTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		w.pending.Wait()
		checkPushSums(t, rep)
		p := rep.Pushes
		if p.Missing != 0 {
			t.Errorf("expected %d, received %d, lost %d, missing %d: want every expected push received or lost with its connection", p.Expected, p.Received, p.LostClosed, p.Missing)
		}
		// The 10th change's push was 40ms away when the connections closed.
		if p.LostClosed == 0 || rep.Changes.Committed != 30 {
			t.Errorf("pushes %+v, %d changes committed: want pushes lost with the closed connections, 30 changes", p, rep.Changes.Committed)
		}
		if c := rep.Connections; c.ClosedByService != 12 || c.Refused != 0 {
			t.Errorf("closed by the service %d, refused %d; want 12, 0", c.ClosedByService, c.Refused)
		}
		if v := ctlreport.CheckDNS(stats.Objective{}, rep); v.Met {
			t.Error("a run whose connections the service closed met the objective")
		}
	})
}
