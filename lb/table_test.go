package lb

import (
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/route"
)

// newDynamic returns a table fed by a route service.
func newDynamic(clk *fakeclock.Clock, cfg Config) *Table {
	cfg.Clock = clk.Now
	return NewTable(cfg)
}

// answer creates key (tmod, tcmd) on demand and answers its pull with hosts.
func answer(t *testing.T, tbl *Table, hosts ...Host) {
	t.Helper()
	tbl.GetHost(tmod, tcmd)
	drainPulls(tbl)
	tbl.ApplyRoute(tmod, tcmd, rhs(hosts))
}

func TestUnknownKeyCreatedAndPulledOnce(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{})
	for range 5 {
		if h, ret := tbl.GetHost(tmod, tcmd); ret != codec.RetNoExist || h != (Host{}) {
			t.Fatalf("unknown key: %v %v, want RetNoExist", h, ret)
		}
		if r := tbl.GetRoute(tmod, tcmd, nil); len(r) != 0 {
			t.Fatalf("unknown key route: %v", r)
		}
	}
	if got := drainPulls(tbl); !slices.Equal(got, []Key{{Modid: tmod, Cmdid: tcmd}}) {
		t.Fatalf("pulls %v, want exactly one for the key", got)
	}
	if st := tbl.Stats(); st.Keys != 1 || st.PullsQueued != 1 {
		t.Fatalf("stats %+v", st)
	}
	if ki, _ := keyInfo(tbl, Key{Modid: tmod, Cmdid: tcmd}); !ki.Pulling || len(ki.Hosts) != 0 {
		t.Fatalf("key before the answer: %+v", ki)
	}
	// GetRoute alone also creates and pulls.
	tbl.GetRoute(7, 8, nil)
	if got := drainPulls(tbl); !slices.Equal(got, []Key{{Modid: 7, Cmdid: 8}}) {
		t.Fatalf("GetRoute pulls %v", got)
	}
	tbl.ApplyRoute(tmod, tcmd, rhs([]Host{hostN(1)}))
	if h, ret := tbl.GetHost(tmod, tcmd); ret != codec.RetSucc || h != hostN(1) {
		t.Fatalf("after the answer: %v %v", h, ret)
	}
	if r := addrs(tbl.GetRoute(tmod, tcmd, nil)); !slices.Equal(r, []Host{hostN(1)}) {
		t.Fatalf("route after the answer: %v", r)
	}
	if ki, _ := keyInfo(tbl, Key{Modid: tmod, Cmdid: tcmd}); ki.Pulling || !ki.Updated.Equal(clk.Now()) {
		t.Fatalf("key after the answer: %+v", ki)
	}
	if got := drainPulls(tbl); len(got) != 0 {
		t.Fatalf("pulls after the answer: %v", got)
	}
}

func TestRefreshAfterUpdateTimeout(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{})
	answer(t, tbl, hostN(1), hostN(2))
	clk.Advance(15*time.Second - time.Millisecond)
	tbl.Sweep()
	tbl.GetHost(tmod, tcmd)
	if got := drainPulls(tbl); len(got) != 0 {
		t.Fatalf("pull before update_timeout: %v", got)
	}
	clk.Advance(time.Millisecond)
	tbl.Tick()
	for range 10 { // still answering, one pull only
		if _, ret := tbl.GetHost(tmod, tcmd); ret != codec.RetSucc {
			t.Fatalf("stale key: ret %v", ret)
		}
		if r := tbl.GetRoute(tmod, tcmd, nil); len(r) != 2 {
			t.Fatalf("stale key route %v", r)
		}
	}
	if got := drainPulls(tbl); !slices.Equal(got, []Key{{Modid: tmod, Cmdid: tcmd}}) {
		t.Fatalf("refresh pulls %v, want one", got)
	}
	tbl.ApplyRoute(tmod, tcmd, rhs([]Host{hostN(1), hostN(2)}))
	tbl.GetHost(tmod, tcmd)
	if got := drainPulls(tbl); len(got) != 0 {
		t.Fatalf("pull after the refresh answer: %v", got)
	}
}

func TestPullRetryAfterPullTimeout(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{})
	tbl.GetHost(tmod, tcmd)
	drainPulls(tbl)
	clk.Advance(999 * time.Millisecond)
	tbl.Sweep()
	if got := drainPulls(tbl); len(got) != 0 {
		t.Fatalf("retry before pull_timeout: %v", got)
	}
	clk.Advance(time.Millisecond)
	tbl.Sweep()
	if got := drainPulls(tbl); !slices.Equal(got, []Key{{Modid: tmod, Cmdid: tcmd}}) {
		t.Fatalf("retry pulls %v", got)
	}
	tbl.Sweep() // the retry restarted the timer
	if got := drainPulls(tbl); len(got) != 0 {
		t.Fatalf("second retry too early: %v", got)
	}
	if st := tbl.Stats(); st.PullRetries != 1 || st.PullsQueued != 2 {
		t.Fatalf("stats %+v", st)
	}
	tbl.ApplyRoute(tmod, tcmd, rhs([]Host{hostN(1)}))
	clk.Advance(time.Hour / 2)
	tbl.Sweep() // answered keys are not retried (and Sweep does not refresh)
	if got := drainPulls(tbl); len(got) != 0 {
		t.Fatalf("answered key retried: %v", got)
	}
}

func TestRouteAnswerAddKeepRemove(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{})
	answer(t, tbl, hostN(1), hostN(2), hostN(3))
	overload(t, tbl, hostN(2))
	report(tbl, hostN(3), 0, 4)
	before2, before3 := hostInfo(t, tbl, hostN(2)), hostInfo(t, tbl, hostN(3))

	clk.Advance(time.Second)
	tbl.ApplyRoute(tmod, tcmd, rhs([]Host{hostN(4), hostN(3), hostN(2), hostN(4)})) // duplicates collapse
	if got := hostInfo(t, tbl, hostN(2)); got != before2 {
		t.Fatalf("kept overloaded host changed: %+v, was %+v", got, before2)
	}
	if got := hostInfo(t, tbl, hostN(3)); got != before3 {
		t.Fatalf("kept idle host changed: %+v, was %+v", got, before3)
	}
	if got, want := hostInfo(t, tbl, hostN(4)), (HostInfo{Host: route.Host{Addr: hostN(4)}, Since: clk.Now(), VSucc: 180}); got != want {
		t.Fatalf("new host %+v, want %+v", got, want)
	}
	if r := addrs(tbl.GetRoute(tmod, tcmd, nil)); !slices.Equal(r, []Host{hostN(2), hostN(3), hostN(4)}) {
		t.Fatalf("route %v", r)
	}
	for range 100 {
		if h, _ := tbl.GetHost(tmod, tcmd); h == hostN(1) {
			t.Fatal("removed host picked")
		}
	}
	ignored := tbl.Stats().ReportsIgnored
	tbl.Report(tmod, tcmd, hostN(1), 0)
	tbl.Report(tmod, tcmd, hostN(9), 0)
	tbl.Report(99, 99, hostN(2), 0)
	if got := tbl.Stats().ReportsIgnored - ignored; got != 3 {
		t.Fatalf("ignored reports %d, want 3", got)
	}
	if st := tbl.Stats(); st.HostsIdle != 2 || st.HostsOverloaded != 1 {
		t.Fatalf("gauges %+v", st)
	}
}

func TestEmptyAnswerRemovesKey(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{})
	answer(t, tbl, hostN(1), hostN(2))
	tbl.ApplyRoute(tmod, tcmd, nil)
	if st := tbl.Stats(); st.Keys != 0 || st.HostsIdle != 0 {
		t.Fatalf("stats after the empty answer: %+v", st)
	}
	if len(tbl.Snapshot()) != 0 {
		t.Fatal("key still listed")
	}
	tbl.Report(tmod, tcmd, hostN(1), 0)
	if tbl.Stats().ReportsIgnored != 1 {
		t.Fatal("report for the removed key not ignored")
	}
	// A later get creates it again and asks again.
	if _, ret := tbl.GetHost(tmod, tcmd); ret != codec.RetNoExist {
		t.Fatalf("ret %v", ret)
	}
	if got := drainPulls(tbl); len(got) != 1 {
		t.Fatalf("pulls %v", got)
	}
}

func TestAnswerForUnaskedKeyIgnored(t *testing.T) {
	tbl := newDynamic(newFakeClock(), Config{})
	tbl.ApplyRoute(5, 6, rhs([]Host{hostN(1)}))
	if st := tbl.Stats(); st.Keys != 0 || st.AnswersIgnored != 1 {
		t.Fatalf("stats %+v", st)
	}
	if _, ret := tbl.GetHost(5, 6); ret != codec.RetNoExist {
		t.Fatalf("ret %v", ret)
	}
}

func TestStaticNeverCreatesKeys(t *testing.T) {
	clk := newFakeClock()
	tbl := newStatic(t, clk, Settings{}, hostN(1))
	for range 3 {
		if _, ret := tbl.GetHost(5, 6); ret != codec.RetNoExist {
			t.Fatalf("ret %v", ret)
		}
		tbl.GetRoute(5, 6, nil)
	}
	clk.Advance(time.Hour)
	tbl.Sweep()
	if got := tbl.Reconnected(nil); len(got) != 0 {
		t.Fatalf("static table lists %v to pull", got)
	}
	tbl.GetHost(tmod, tcmd)
	if st := tbl.Stats(); st.Keys != 1 || st.UnknownRefused != 6 || st.PullsQueued != 0 {
		t.Fatalf("stats %+v", st)
	}
	if got := drainPulls(tbl); len(got) != 0 {
		t.Fatalf("static table pulled %v", got)
	}
}

func TestReplaceRoutes(t *testing.T) {
	clk := newFakeClock()
	tbl := NewTable(Config{Clock: clk.Now, Static: true})
	tbl.ReplaceRoutes(routes(map[Key][]Host{
		{Modid: 1, Cmdid: 1}: {hostN(1), hostN(2)},
		{Modid: 2, Cmdid: 2}: {hostN(3)},
		{Modid: 3, Cmdid: 3}: {hostN(4)},
	}))
	tbl.Report(1, 1, hostN(1), 0)
	for range 15 {
		tbl.Report(1, 1, hostN(2), fail)
	}
	tbl.ReplaceRoutes(routes(map[Key][]Host{
		{Modid: 1, Cmdid: 1}: {hostN(2), hostN(5)}, // host 1 leaves, 2 keeps its state, 5 joins
		{Modid: 3, Cmdid: 3}: nil,                  // no hosts: removed
		{Modid: 4, Cmdid: 4}: {hostN(6)},           // new key
	}))
	snap := tbl.Snapshot()
	var keys []Key
	for _, ki := range snap {
		keys = append(keys, ki.Key)
	}
	if !slices.Equal(keys, []Key{{Modid: 1, Cmdid: 1}, {Modid: 4, Cmdid: 4}}) {
		t.Fatalf("keys after reload %v", keys)
	}
	h := snap[0].Hosts
	if len(h) != 2 || h[0].Host.Addr != hostN(2) || !h[0].Overloaded || h[1].Host.Addr != hostN(5) || h[1].Overloaded {
		t.Fatalf("key 1/1 after reload: %+v", h)
	}
	if st := tbl.Stats(); st.Keys != 2 || st.HostsIdle != 2 || st.HostsOverloaded != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMaxKeys(t *testing.T) {
	tbl := newDynamic(newFakeClock(), Config{MaxKeys: 3, MaxNoRouteKeys: 3})
	for i := range int32(5) {
		tbl.GetHost(i, i)
	}
	if st := tbl.Stats(); st.Keys != 3 || st.UnknownRefused != 2 || st.RefusedMaxKeys != 2 || st.PullsQueued != 3 {
		t.Fatalf("stats %+v", st)
	}
	tbl.ApplyRoute(0, 0, nil) // removing one makes room
	tbl.GetHost(9, 9)
	if st := tbl.Stats(); st.Keys != 3 || st.UnknownRefused != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPullQueueFullDropsAndRequeues(t *testing.T) {
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{PullQueue: 2})
	for i := range int32(5) {
		tbl.GetHost(i, i) // must not block
	}
	if st := tbl.Stats(); st.PullsQueued != 2 || st.PullsDropped != 3 || st.Keys != 5 {
		t.Fatalf("stats %+v", st)
	}
	seen := map[Key]int{}
	for _, k := range drainPulls(tbl) {
		seen[k]++
	}
	for range 3 { // the next sweeps queue the dropped pulls, not before pull_timeout the sent ones
		tbl.Sweep()
		for _, k := range drainPulls(tbl) {
			seen[k]++
		}
	}
	if len(seen) != 5 {
		t.Fatalf("pulled keys %v, want all 5", seen)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("key %v pulled %d times", k, n)
		}
	}
}

func TestStatusQueue(t *testing.T) {
	clk := newFakeClock()
	tbl := NewTable(Config{Clock: clk.Now, Static: true, StatusQueue: 1})
	tbl.ReplaceRoutes(routes(map[Key][]Host{
		{Modid: 1, Cmdid: 1}: {hostN(1), hostN(2)},
		{Modid: 2, Cmdid: 2}: {hostN(3)},
		{Modid: 3, Cmdid: 3}: {hostN(4)},
	}))
	tbl.Sweep()
	if got := drainStatuses(tbl); len(got) != 0 {
		t.Fatalf("status without reports: %v", got)
	}
	tbl.Report(1, 1, hostN(1), 0)
	tbl.Report(1, 1, hostN(1), 0)
	tbl.Report(1, 1, hostN(1), fail)
	for range 15 {
		tbl.Report(1, 1, hostN(2), fail)
	}
	tbl.Sweep()
	got := drainStatuses(tbl)
	want := Status{Modid: 1, Cmdid: 1, Hosts: []HostStatus{
		{Host: hostN(1), Succ: 2, Err: 1},
		{Host: hostN(2), Overload: true}, // counters restart when it becomes overloaded
	}}
	if len(got) != 1 || got[0].Modid != want.Modid || got[0].Cmdid != want.Cmdid || !slices.Equal(got[0].Hosts, want.Hosts) {
		t.Fatalf("statuses %+v, want %+v", got, want)
	}
	// At most once per interval, only after new reports.
	tbl.Report(1, 1, hostN(1), 0)
	clk.Advance(999 * time.Millisecond)
	tbl.Sweep()
	if got := drainStatuses(tbl); len(got) != 0 {
		t.Fatalf("status before report_interval: %v", got)
	}
	clk.Advance(time.Millisecond)
	tbl.Sweep()
	if got := drainStatuses(tbl); len(got) != 1 || got[0].Hosts[0].Succ != 3 {
		t.Fatalf("status after report_interval: %+v", got)
	}
	clk.Advance(time.Second)
	tbl.Sweep()
	if got := drainStatuses(tbl); len(got) != 0 {
		t.Fatalf("status without new reports: %v", got)
	}
	// Two keys with reports, a queue of one: one dropped and counted.
	tbl.Report(2, 2, hostN(3), 0)
	tbl.Report(3, 3, hostN(4), 0)
	clk.Advance(time.Second)
	tbl.Sweep()
	if got := drainStatuses(tbl); len(got) != 1 {
		t.Fatalf("statuses %v", got)
	}
	if st := tbl.Stats(); st.StatusEmitted != 3 || st.StatusDropped != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestGetRouteAppends(t *testing.T) {
	tbl := newStatic(t, newFakeClock(), Settings{}, hostN(2), hostN(1))
	dst := make([]route.Host, 1, 8)
	dst[0] = route.Host{Addr: hostN(9)}
	got := tbl.GetRoute(tmod, tcmd, dst)
	if !slices.Equal(addrs(got), []Host{hostN(9), hostN(1), hostN(2)}) || &got[0] != &dst[0] {
		t.Fatalf("GetRoute = %v", got)
	}
}

func TestManyKeysGrowShards(t *testing.T) {
	tbl := NewTable(Config{Shards: 3, Static: true}) // rounded up to 4
	rs := map[Key][]Host{}
	for i := range int32(5000) {
		rs[Key{Modid: i, Cmdid: -i}] = []Host{hostN(int(i % 7))}
	}
	tbl.ReplaceRoutes(routes(rs))
	for k, hs := range rs {
		if h, ret := tbl.GetHost(k.Modid, k.Cmdid); ret != codec.RetSucc || h != hs[0] {
			t.Fatalf("key %v: %v %v", k, h, ret)
		}
	}
	// Remove half, then look the rest up past the tombstones.
	for i := int32(0); i < 5000; i += 2 {
		delete(rs, Key{Modid: i, Cmdid: -i})
	}
	tbl.ReplaceRoutes(routes(rs))
	if st := tbl.Stats(); st.Keys != 2500 {
		t.Fatalf("keys %d", st.Keys)
	}
	for i := range int32(5000) {
		_, ret := tbl.GetHost(i, -i)
		if want := i%2 == 1; (ret == codec.RetSucc) != want {
			t.Fatalf("key %d: ret %v", i, ret)
		}
	}
}
