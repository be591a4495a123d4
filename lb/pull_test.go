package lb

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
)

// sortKeys sorts keys by modid then cmdid.
func sortKeys(ks []Key) []Key {
	slices.SortFunc(ks, func(a, b Key) int {
		if a.Modid != b.Modid {
			return int(a.Modid - b.Modid)
		}
		return int(a.Cmdid - b.Cmdid)
	})
	return ks
}

func TestReconnectedListsEveryKeyOutstandingFirst(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{PullQueue: 2, NegativeTTL: time.Minute})
	for i := range int32(5) {
		tbl.GetHost(1, i) // (1,0) and (1,1) queued, (1,2)..(1,4) wanted: the queue is full
	}
	for i := range int32(3) {
		tbl.ApplyRoute(1, i, rhs([]Host{hostN(1)})) // (1,2) was wanted: an answer still counts
	}
	tbl.GetHost(2, 0)         // finds the queue full
	tbl.ApplyRoute(2, 0, nil) // negative: known, no hosts
	drainPulls(tbl)
	// Outstanding: (1,3) and (1,4) wanted. Known, answered: (1,0), (1,1), (1,2), (2,0).
	clk.Advance(5 * time.Second)
	got := tbl.Reconnected([]Key{{Modid: 9, Cmdid: 9}})
	if got[0] != (Key{Modid: 9, Cmdid: 9}) {
		t.Fatalf("dst not appended to: %v", got)
	}
	if first := sortKeys(slices.Clone(got[1:3])); !slices.Equal(first, []Key{{Modid: 1, Cmdid: 3}, {Modid: 1, Cmdid: 4}}) {
		t.Fatalf("outstanding keys first: %v", got)
	}
	if rest := sortKeys(slices.Clone(got[3:])); !slices.Equal(rest, []Key{{Modid: 1, Cmdid: 0}, {Modid: 1, Cmdid: 1}, {Modid: 1, Cmdid: 2}, {Modid: 2, Cmdid: 0}}) {
		t.Fatalf("the other known keys: %v", got)
	}
	// The outstanding keys are in flight from now: Sweep leaves them to the caller
	// until pull_timeout (1 s), and no key was queued.
	tbl.Sweep()
	if q := drainPulls(tbl); len(q) != 0 {
		t.Fatalf("Sweep queued %v right after Reconnected", q)
	}
	for _, k := range []Key{{Modid: 1, Cmdid: 3}, {Modid: 1, Cmdid: 4}} {
		if ki, _ := tbl.Lookup(k.Modid, k.Cmdid); !ki.Pulling {
			t.Fatalf("%v not in flight: %+v", k, ki)
		}
	}
	if ki, _ := tbl.Lookup(1, 0); ki.Pulling {
		t.Fatalf("answered key in flight before MarkPulling: %+v", ki)
	}
	clk.Advance(time.Second)
	tbl.Sweep()
	if q := sortKeys(drainPulls(tbl)); !slices.Equal(q, []Key{{Modid: 1, Cmdid: 3}}) && !slices.Equal(q, []Key{{Modid: 1, Cmdid: 3}, {Modid: 1, Cmdid: 4}}) {
		t.Fatalf("retries after pull_timeout: %v", q) // (1,4) may find the queue full
	}
}

func TestReconnectedLeavesQueuedPullsToTheQueue(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{})
	tbl.GetHost(1, 1)
	tbl.ApplyRoute(1, 1, rhs([]Host{hostN(1)}))
	drainPulls(tbl)
	tbl.GetHost(2, 2) // queued after the drain: the consumer sends it from the queue
	if got := tbl.Reconnected(nil); !slices.Equal(got, []Key{{Modid: 1, Cmdid: 1}}) {
		t.Fatalf("listed %v, want (1,1) only", got)
	}
	// (1,1) goes stale and is refreshed through the queue before its batch is
	// written: MarkPulling leaves it to the queue too.
	keys := tbl.Reconnected(nil)
	clk.Advance(15 * time.Second)
	tbl.Tick()
	tbl.GetHost(1, 1)
	if got := tbl.MarkPulling(keys); len(got) != 0 {
		t.Fatalf("MarkPulling kept %v, waiting in the queue", got)
	}
	if q := sortKeys(drainPulls(tbl)); !slices.Equal(q, []Key{{Modid: 1, Cmdid: 1}, {Modid: 2, Cmdid: 2}}) {
		t.Fatalf("queue %v", q)
	}
}

func TestMarkPullingPutsKeysInFlight(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{})
	for i := range int32(3) {
		tbl.GetHost(1, i)
		tbl.ApplyRoute(1, i, rhs([]Host{hostN(1)}))
	}
	drainPulls(tbl)
	keys := tbl.Reconnected(nil)
	tbl.ApplyRoute(1, 1, nil) // removed before its pull is written
	keys = tbl.MarkPulling(keys)
	if got := sortKeys(keys); !slices.Equal(got, []Key{{Modid: 1, Cmdid: 0}, {Modid: 1, Cmdid: 2}}) {
		t.Fatalf("keys to write: %v", got)
	}
	for _, k := range keys {
		if ki, _ := tbl.Lookup(k.Modid, k.Cmdid); !ki.Pulling {
			t.Fatalf("%v not in flight", k)
		}
	}
	// A refresh does not pull a key in flight; an unanswered one is retried after
	// pull_timeout; an answered one is done.
	tbl.ApplyRoute(1, 0, rhs([]Host{hostN(2)}))
	clk.Advance(15 * time.Second)
	tbl.Tick()
	tbl.GetHost(1, 2)
	if q := drainPulls(tbl); len(q) != 0 {
		t.Fatalf("refresh of a key in flight queued %v", q)
	}
	tbl.Sweep()
	if q := drainPulls(tbl); !slices.Equal(q, []Key{{Modid: 1, Cmdid: 2}}) {
		t.Fatalf("retries %v, want the unanswered key", q)
	}
	if st := tbl.Stats(); st.PullRetries != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSweepRetryDoesNotDuplicateQueuedPull(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{})
	tbl.GetHost(tmod, tcmd) // queued, never taken: the route service is down
	for range 5 {
		clk.Advance(time.Second)
		tbl.Sweep()
	}
	if got := len(tbl.Pulls()); got != 1 {
		t.Fatalf("%d pulls queued, want 1", got)
	}
	if st := tbl.Stats(); st.PullsQueued != 1 || st.PullRetries != 0 || st.PullsDropped != 0 || st.PullsSkipped != 5 {
		t.Fatalf("stats %+v", st)
	}
	// Taken now: its pull_timeout runs from the last Sweep that found it queued.
	if got := drainPulls(tbl); !slices.Equal(got, []Key{{Modid: tmod, Cmdid: tcmd}}) {
		t.Fatalf("pulls %v", got)
	}
	clk.Advance(999 * time.Millisecond)
	tbl.Sweep()
	if got := drainPulls(tbl); len(got) != 0 {
		t.Fatalf("retry before pull_timeout: %v", got)
	}
	clk.Advance(time.Millisecond)
	tbl.Sweep()
	if got := drainPulls(tbl); !slices.Equal(got, []Key{{Modid: tmod, Cmdid: tcmd}}) {
		t.Fatalf("retry %v", got)
	}
	if st := tbl.Stats(); st.PullsQueued != 2 || st.PullRetries != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRefreshDoesNotDuplicateQueuedPull(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{})
	tbl.GetHost(tmod, tcmd)
	// Answered (a push) while its pull still waits in the queue, then stale again.
	tbl.ApplyRoute(tmod, tcmd, rhs([]Host{hostN(1)}))
	clk.Advance(15 * time.Second)
	tbl.Tick()
	tbl.GetHost(tmod, tcmd)
	if got := drainPulls(tbl); !slices.Equal(got, []Key{{Modid: tmod, Cmdid: tcmd}}) {
		t.Fatalf("pulls %v, want the key once", got)
	}
	if ki, _ := tbl.Lookup(tmod, tcmd); !ki.Pulling {
		t.Fatalf("refresh not in flight: %+v", ki)
	}
}

func TestPullQueueOrderAfterWrap(t *testing.T) {
	// Many keys through a small queue, taken a round at a time: a retry after the
	// queue wrapped queues exactly the keys taken and not answered.
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{PullQueue: 4})
	for round := range int32(50) {
		for i := range int32(3) {
			tbl.GetHost(round, i)
		}
		got := drainPulls(tbl)
		if len(got) != 3 {
			t.Fatalf("round %d: pulls %v", round, got)
		}
		for i := range int32(3) {
			tbl.ApplyRoute(round, i, rhs([]Host{hostN(1)}))
		}
	}
	tbl.GetHost(99, 1)
	tbl.GetHost(99, 2)
	<-tbl.Pulls()
	clk.Advance(time.Second)
	tbl.Sweep() // (99,1) taken and unanswered: retried; (99,2) still queued: not
	if got := drainPulls(tbl); !slices.Equal(got, []Key{{Modid: 99, Cmdid: 2}, {Modid: 99, Cmdid: 1}}) {
		t.Fatalf("pulls %v", got)
	}
}

func TestLookupDoesNotCreate(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{})
	if ki, ok := tbl.Lookup(tmod, tcmd); ok {
		t.Fatalf("unknown key found: %+v", ki)
	}
	if st := tbl.Stats(); st.Keys != 0 || st.PullsQueued != 0 || st.UnknownRefused != 0 {
		t.Fatalf("Lookup changed the table: %+v", st)
	}
	tbl.GetHost(tmod, tcmd)
	ki, ok := tbl.Lookup(tmod, tcmd)
	if !ok || ki.Key != (Key{Modid: tmod, Cmdid: tcmd}) || !ki.Pulling || len(ki.Hosts) != 0 {
		t.Fatalf("pulling key: %+v %v", ki, ok)
	}
	drainPulls(tbl)
	tbl.ApplyRoute(tmod, tcmd, rhs([]Host{hostN(2), hostN(1)}))
	ki, ok = tbl.Lookup(tmod, tcmd)
	if !ok || ki.Pulling || len(ki.Hosts) != 2 || ki.Hosts[0].Host.Addr != hostN(1) || !ki.Updated.Equal(clk.Now()) {
		t.Fatalf("answered key: %+v %v", ki, ok)
	}
	tbl.ApplyRoute(tmod, tcmd, nil)
	if _, ok := tbl.Lookup(tmod, tcmd); ok {
		t.Fatal("removed key found")
	}
}

func TestNegativeTTL(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{NegativeTTL: 5 * time.Second})
	answer(t, tbl) // an empty answer
	ki, ok := tbl.Lookup(tmod, tcmd)
	if !ok || !ki.Negative || ki.Pulling || len(ki.Hosts) != 0 {
		t.Fatalf("negative key: %+v %v", ki, ok)
	}
	if st := tbl.Stats(); st.Keys != 1 || st.HostsIdle != 0 {
		t.Fatalf("stats %+v", st)
	}
	clk.Advance(5*time.Second - time.Millisecond)
	tbl.Sweep()
	for range 10 {
		if _, ret := tbl.GetHost(tmod, tcmd); ret != codec.RetNoExist {
			t.Fatalf("negative key: ret %v", ret)
		}
		if r := tbl.GetRoute(tmod, tcmd, nil); len(r) != 0 {
			t.Fatalf("negative key route %v", r)
		}
	}
	if got := drainPulls(tbl); len(got) != 0 {
		t.Fatalf("negative key pulled within NegativeTTL: %v", got)
	}
	// After it: the next get pulls once; the key answers nothing until the answer.
	clk.Advance(time.Millisecond)
	tbl.Tick()
	for range 3 {
		if _, ret := tbl.GetHost(tmod, tcmd); ret != codec.RetNoExist {
			t.Fatalf("ret %v", ret)
		}
	}
	if got := drainPulls(tbl); !slices.Equal(got, []Key{{Modid: tmod, Cmdid: tcmd}}) {
		t.Fatalf("pulls after NegativeTTL %v, want one", got)
	}
	tbl.ApplyRoute(tmod, tcmd, rhs([]Host{hostN(1)}))
	if h, ret := tbl.GetHost(tmod, tcmd); ret != codec.RetSucc || h != hostN(1) {
		t.Fatalf("after a real answer: %v %v", h, ret)
	}
	if ki, _ := tbl.Lookup(tmod, tcmd); ki.Negative {
		t.Fatal("still negative after hosts")
	}
	// Empty again, and nobody asks: Sweep removes it after NegativeTTL.
	tbl.ApplyRoute(tmod, tcmd, nil)
	clk.Advance(4 * time.Second)
	tbl.Sweep()
	if st := tbl.Stats(); st.Keys != 1 {
		t.Fatalf("negative key removed early: %+v", st)
	}
	clk.Advance(time.Second)
	tbl.Sweep()
	if st := tbl.Stats(); st.Keys != 0 {
		t.Fatalf("negative key kept past NegativeTTL: %+v", st)
	}
	if _, ok := tbl.Lookup(tmod, tcmd); ok {
		t.Fatal("expired negative key found")
	}
	tbl.GetHost(tmod, tcmd)
	if got := drainPulls(tbl); len(got) != 1 {
		t.Fatalf("pulls after expiry %v", got)
	}
}

func TestFastMod(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := uint64(1); n <= inlineIdle; n++ {
		check := func(x uint64) {
			t.Helper()
			if got, want := fastMod(x, n), x%n; got != want {
				t.Fatalf("fastMod(%d, %d) = %d, want %d", x, n, got, want)
			}
		}
		for x := range uint64(1000) {
			check(x)
		}
		for range 100_000 {
			check(r.Uint64() >> 4)
		}
		for _, x := range []uint64{1<<32 - 1, 1 << 32, 1<<32 + 1, 1<<48 - 1, 1 << 48, 1<<60 - 1} {
			check(x)
		}
	}
}

// TestRoundRobinAcrossInlineLimit checks the exact cycle and GetRoute for keys whose
// idle set is held in the index slot (up to inlineIdle hosts) and beyond, and while
// a host goes overloaded and back (the slot's copy is dropped and restored).
func TestRoundRobinAcrossInlineLimit(t *testing.T) {
	for _, n := range []int{1, 2, inlineIdle, inlineIdle + 1, 100} {
		clk := newFakeClock()
		var hosts []Host
		for i := range n {
			hosts = append(hosts, hostN(n-i))
		}
		tbl := newStatic(t, clk, Settings{}, hosts...)
		sorted := slices.Clone(hosts)
		slices.SortFunc(sorted, func(a, b Host) int { return a.Compare(b) })
		if r := addrs(tbl.GetRoute(tmod, tcmd, nil)); !slices.Equal(r, sorted) {
			t.Fatalf("%d hosts: route %v", n, r)
		}
		cycle := func(msg string) {
			t.Helper()
			first := make([]Host, n)
			for i := range first {
				first[i], _ = tbl.GetHost(tmod, tcmd)
			}
			if len(slicesCompactSorted(first)) != n {
				t.Fatalf("%d hosts %s: cycle %v does not hold every host once", n, msg, first)
			}
			for c := range 3 {
				for i := range first {
					if h, _ := tbl.GetHost(tmod, tcmd); h != first[i] {
						t.Fatalf("%d hosts %s: cycle %d pick %d: %v, want %v", n, msg, c, i, h, first[i])
					}
				}
			}
		}
		cycle("all idle")
		if n < 2 {
			continue
		}
		overload(t, tbl, hostN(1))
		seen := map[Host]int{}
		for range 11 * (n - 1) {
			h, ret := tbl.GetHost(tmod, tcmd)
			if ret != codec.RetSucc {
				t.Fatalf("ret %v", ret)
			}
			seen[h]++
		}
		if seen[hostN(1)] != n-1 || len(seen) != n {
			t.Fatalf("%d hosts, one overloaded: picks %v", n, seen)
		}
		report(tbl, hostN(1), 0, 15)
		wantState(t, tbl, hostN(1), false, "after 15 successes")
		cycle("recovered")
		if r := addrs(tbl.GetRoute(tmod, tcmd, nil)); !slices.Equal(r, sorted) {
			t.Fatalf("%d hosts: route after recovery %v", n, r)
		}
	}
}

func slicesCompactSorted(hs []Host) []Host {
	c := slices.Clone(hs)
	slices.SortFunc(c, func(a, b Host) int { return a.Compare(b) })
	return slices.Compact(c)
}
