//go:build !race

package upstream

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// TestResubscribe100kKeysAlloc: a table of 100,000 keys is pulled again after each
// reconnection, no faster than the default rate allows, while get_host goes on with no
// allocation. It reports how long re-subscribing 100,000 keys takes (how soon after the
// pace allows is the machine's speed; the pace is checked on a scripted clock in
// TestResubscriptionPace).
//
// testing.AllocsPerRun counts the whole process, here the fake route service and the
// client's reader too, so the serving goroutine's allocations are found by stack
// instead: the memory profiler records every allocation (MemProfileRate 1) during the
// second reconnection, and none may come from serveGets.
func TestResubscribe100kKeysAlloc(t *testing.T) {
	larstest.CheckGoroutines(t, 2*wait)
	const n = 100_000
	dns := larstest.NewRouteService(t)
	routes := make(map[route.Key][]route.Host, n)
	for i := range int32(n) {
		k := route.Key{Modid: 1 + i/1000, Cmdid: i % 1000}
		routes[k] = []route.Host{h1, h2}
		dns.SetRoute(k.Modid, k.Cmdid, h1, h2)
	}
	tbl := lb.NewTable(lb.Config{Settings: longUpdateTimeout()})
	tbl.ReplaceRoutes(routes) // known keys, no pull pending
	c := NewRouteClient(RouteClientConfig{Addrs: []string{dns.Addr()}, Table: tbl,
		Link: Link{Logger: quiet, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
	run(t, c.Run)
	if err := dns.WaitSubscriptions(n, 2*wait); err != nil { // the first connection subscribes them all
		t.Fatal(err)
	}
	eventually(t, "first re-subscription done", func() bool { return c.Stats().Resubscribes == 1 })
	bound := time.Duration(n-DefaultResubscribeBatch) * time.Second / DefaultResubscribeRate // 1.99 s

	// profiled says every allocation is being recorded, which slows the fake service
	// down: it is given longer to see every key.
	reconnect := func(round int, profiled bool) time.Duration {
		serviceWait := 2 * wait
		if profiled {
			serviceWait = 6 * wait
		}
		t.Helper()
		before := c.Stats().Resubscribes
		dns.CloseConns()
		if err := dns.WaitAccepted(round+1, wait); err != nil {
			t.Fatal(err)
		}
		accepted := time.Now()
		if err := dns.WaitSubscriptions(n, serviceWait); err != nil {
			t.Fatal(err)
		}
		took := time.Since(accepted)
		if dns.Active() != 1 {
			t.Fatalf("%d connections, want 1", dns.Active())
		}
		eventually(t, "re-subscription done", func() bool { return c.Stats().Resubscribes == before+1 })
		st := c.Stats()
		t.Logf("reconnection %d: %d keys subscribed on the service %v after it accepted the connection; client: last key written %v after connecting",
			round, n, took, st.LastResubscribe)
		if st.LastResubscribe < bound {
			t.Fatalf("re-subscription took %v, faster than the pace of %d keys/s allows (%v)",
				st.LastResubscribe, DefaultResubscribeRate, bound)
		}
		return took
	}

	// Reconnection 1 measures, with get_host served all along.
	var stop atomic.Bool
	var calls atomic.Uint64
	done := make(chan string, 1)
	go func() { done <- serveGets(tbl, n, &stop, &calls) }()
	stopServing := func() string {
		if stop.Swap(true) {
			return ""
		}
		return <-done
	}
	t.Cleanup(func() { stopServing() })
	reconnect(1, false)

	// Reconnection 2 with every allocation profiled. The service does not answer, to
	// spare the profiler its allocations and those of the client's reader.
	dns.SetSilent(true)
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = old }()
	profiledAlloc()
	reconnect(2, true)
	if failure := stopServing(); failure != "" {
		t.Fatal(failure)
	}
	runtime.MemProfileRate = old
	if calls.Load() == 0 {
		t.Fatal("no get_host served during the reconnections")
	}
	t.Logf("%d get_host served during the two reconnections", calls.Load())
	probe, serving := profiledAllocs()
	if probe == 0 {
		t.Fatal("the memory profiler did not record the probe allocation: the check below would prove nothing")
	}
	if serving != "" {
		t.Fatalf("get_host allocated during the re-subscription:\n%s", serving)
	}
}

// serveGets calls GetHost over the n keys until stop, counting calls; it returns a
// failure, or "". It must not allocate.
func serveGets(tbl *lb.Table, n int32, stop *atomic.Bool, calls *atomic.Uint64) string {
	for i := int32(0); !stop.Load(); i = (i + 7919) % n {
		if _, rc := tbl.GetHost(1+i/1000, i%1000); rc != codec.RetSucc {
			return "GetHost failed during the re-subscription"
		}
		calls.Add(1)
	}
	return ""
}

var probeSink []byte

// profiledAlloc allocates once, to check the profiler records allocations.
//
//go:noinline
func profiledAlloc() { probeSink = make([]byte, 4096) }

// profiledAllocs returns the allocations profiled in profiledAlloc, and the stacks of
// any in serveGets.
func profiledAllocs() (probe int64, serving string) {
	runtime.GC() // the profile is published by garbage collections
	runtime.GC()
	var recs []runtime.MemProfileRecord
	for {
		n, _ := runtime.MemProfile(nil, true)
		recs = make([]runtime.MemProfileRecord, n+50)
		if n, ok := runtime.MemProfile(recs, true); ok {
			recs = recs[:n]
			break
		}
	}
	var b strings.Builder
	for _, r := range recs {
		frames := runtime.CallersFrames(r.Stack())
		var stack []string
		inServing, inProbe := false, false
		for {
			f, more := frames.Next()
			stack = append(stack, f.Function)
			inServing = inServing || strings.HasSuffix(f.Function, ".serveGets")
			inProbe = inProbe || strings.HasSuffix(f.Function, ".profiledAlloc")
			if !more {
				break
			}
		}
		if inProbe {
			probe += r.AllocObjects
		}
		if inServing && r.AllocObjects > 0 {
			b.WriteString(strings.Join(stack, " < ") + "\n")
		}
	}
	return probe, b.String()
}
