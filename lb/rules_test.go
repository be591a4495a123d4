package lb

import (
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/route"
)

const fail = 1 // any non-zero retcode is a failure

func wantState(t *testing.T, tbl *Table, h Host, overloaded bool, msg string) HostInfo {
	t.Helper()
	hi := hostInfo(t, tbl, h)
	if hi.Overloaded != overloaded {
		t.Fatalf("%s: host %v overloaded=%v, want %v (%+v)", msg, h, hi.Overloaded, overloaded, hi)
	}
	return hi
}

// overload makes h overloaded with 15 consecutive failures.
func overload(t *testing.T, tbl *Table, h Host) {
	t.Helper()
	report(tbl, h, fail, 15)
	wantState(t, tbl, h, true, "after 15 failures")
}

func TestNewHostStartsIdleWithWindow(t *testing.T) {
	clk := newFakeClock()
	tbl := newStatic(t, clk, Settings{}, hostN(1))
	hi := wantState(t, tbl, hostN(1), false, "new host")
	want := HostInfo{Host: route.Host{Addr: hostN(1)}, Since: clk.Now(), VSucc: 180}
	if hi != want {
		t.Fatalf("new host = %+v, want %+v", hi, want)
	}
	// The window runs from the time the host joined (Lars left it uninitialised):
	// just before its end a report does not reset the counters, at its end it does.
	clk.Advance(15*time.Second - time.Millisecond)
	tbl.Tick()
	report(tbl, hostN(1), 0, 1)
	if hi := hostInfo(t, tbl, hostN(1)); hi.RSucc != 1 || hi.VSucc != 181 {
		t.Fatalf("window ended early: %+v", hi)
	}
	clk.Advance(time.Millisecond)
	tbl.Tick()
	report(tbl, hostN(1), 0, 1)
	if hi := hostInfo(t, tbl, hostN(1)); hi.RSucc != 0 || hi.VSucc != 180 || !hi.Since.Equal(clk.Now()) {
		t.Fatalf("window did not end at idle_timeout: %+v", hi)
	}
}

func TestOverloadedAtFifteenthConsecutiveFailure(t *testing.T) {
	clk := newFakeClock()
	tbl := newStatic(t, clk, Settings{}, hostN(1), hostN(2))
	report(tbl, hostN(1), fail, 14)
	hi := wantState(t, tbl, hostN(1), false, "after 14 failures")
	if hi.VErr != 14 || hi.RErr != 14 || hi.ContinErr != 14 || hi.VSucc != 180 {
		t.Fatalf("counts after 14 failures: %+v", hi)
	}
	clk.Advance(time.Second)
	tbl.Tick()
	report(tbl, hostN(1), fail, 1)
	hi = wantState(t, tbl, hostN(1), true, "after 15 failures")
	want := HostInfo{Host: route.Host{Addr: hostN(1)}, Overloaded: true, Since: clk.Now(), VErr: 5}
	if hi != want {
		t.Fatalf("overloaded host = %+v, want %+v", hi, want)
	}
	if st := tbl.Stats(); st.HostsIdle != 1 || st.HostsOverloaded != 1 {
		t.Fatalf("gauges: %+v", st)
	}
}

func TestSuccessResetsConsecutiveFailures(t *testing.T) {
	clk := newFakeClock()
	s := DefaultSettings()
	s.ErrRate = 1 // only contin_err_limit can fire
	tbl := newStatic(t, clk, s, hostN(1))
	report(tbl, hostN(1), fail, 14)
	report(tbl, hostN(1), 0, 1)
	report(tbl, hostN(1), fail, 14)
	hi := wantState(t, tbl, hostN(1), false, "14 failures, a success, 14 failures")
	if hi.ContinErr != 14 || hi.VErr != 28 || hi.VSucc != 181 || hi.RSucc != 1 {
		t.Fatalf("counts: %+v", hi)
	}
}

func TestErrRateEightyPercentFailures(t *testing.T) {
	// F F F F S repeated: never 15 consecutive failures, so only err_rate can fire:
	// after call n with f failures and s successes it fires when f/(180+s+f) > 0.1,
	// first at call 26 (f=21, s=5: 21/206 > 0.1; call 25 gives 20/205 < 0.1).
	clk := newFakeClock()
	tbl := newStatic(t, clk, Settings{}, hostN(1))
	for n := 1; n <= 26; n++ {
		ret := int32(fail)
		if n%5 == 0 {
			ret = 0
		}
		tbl.Report(tmod, tcmd, hostN(1), ret)
		over := hostInfo(t, tbl, hostN(1)).Overloaded
		if over != (n == 26) {
			t.Fatalf("call %d: overloaded=%v, want %v", n, over, n == 26)
		}
	}
}

func TestErrRateIsStrictlyAbove(t *testing.T) {
	// init_succ_cnt 9, err_rate 0.1: one failure gives 1/10, not above 0.1.
	s := DefaultSettings()
	s.InitSuccCnt = 9
	clk := newFakeClock()
	tbl := newStatic(t, clk, s, hostN(1))
	report(tbl, hostN(1), fail, 1)
	wantState(t, tbl, hostN(1), false, "verr/(vsucc+verr) = 0.1")
	report(tbl, hostN(1), fail, 1)
	wantState(t, tbl, hostN(1), true, "verr/(vsucc+verr) = 2/11")
}

func TestBackToIdleAfterSixSuccesses(t *testing.T) {
	clk := newFakeClock()
	tbl := newStatic(t, clk, Settings{}, hostN(1))
	overload(t, tbl, hostN(1))
	report(tbl, hostN(1), 0, 5) // 5/10 is not above 0.5
	hi := wantState(t, tbl, hostN(1), true, "after 5 successes")
	if hi.VSucc != 5 || hi.VErr != 5 || hi.ContinSucc != 5 {
		t.Fatalf("counts after 5 successes: %+v", hi)
	}
	clk.Advance(time.Second)
	tbl.Tick()
	report(tbl, hostN(1), 0, 1) // 6/11 > 0.5
	hi = wantState(t, tbl, hostN(1), false, "after 6 successes")
	want := HostInfo{Host: route.Host{Addr: hostN(1)}, Since: clk.Now(), VSucc: 180}
	if hi != want {
		t.Fatalf("recovered host = %+v, want %+v", hi, want)
	}
}

func TestOverloadedFailureNeedsMoreSuccesses(t *testing.T) {
	clk := newFakeClock()
	tbl := newStatic(t, clk, Settings{}, hostN(1))
	overload(t, tbl, hostN(1))
	report(tbl, hostN(1), 0, 5)
	report(tbl, hostN(1), fail, 1) // 5/11: the next success gives 6/12, not above 0.5
	report(tbl, hostN(1), 0, 1)
	wantState(t, tbl, hostN(1), true, "5 S, F, S")
	report(tbl, hostN(1), 0, 1) // 7/13
	wantState(t, tbl, hostN(1), false, "5 S, F, 2 S")
}

func TestContinSuccLimit(t *testing.T) {
	s := DefaultSettings()
	s.SuccRate = 1 // the rate rule never fires: only contin_succ_limit can
	clk := newFakeClock()
	tbl := newStatic(t, clk, s, hostN(1))
	overload(t, tbl, hostN(1))
	report(tbl, hostN(1), 0, 14)
	wantState(t, tbl, hostN(1), true, "14 consecutive successes")
	report(tbl, hostN(1), 0, 1)
	wantState(t, tbl, hostN(1), false, "15 consecutive successes")
}

func TestWindowEnd(t *testing.T) {
	for _, c := range []struct {
		name       string
		succ, errs int // before the window ends; one more failure is reported at its end
		overloaded bool
	}{
		{"rate exactly 0.7", 3, 6, true},     // 7/10 >= 0.7
		{"rate above", 1, 8, true},           // 9/10
		{"rate below", 4, 5, false},          // 6/10 < 0.7: counters reset
		{"only the last report", 0, 0, true}, // 1/1
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := newFakeClock()
			tbl := newStatic(t, clk, Settings{}, hostN(1))
			report(tbl, hostN(1), 0, c.succ)
			report(tbl, hostN(1), fail, c.errs)
			wantState(t, tbl, hostN(1), false, "inside the window")
			clk.Advance(15 * time.Second)
			tbl.Tick()
			report(tbl, hostN(1), fail, 1)
			hi := wantState(t, tbl, hostN(1), c.overloaded, "at the window end")
			want := HostInfo{Host: route.Host{Addr: hostN(1)}, Since: clk.Now(), VSucc: 180}
			if c.overloaded {
				want = HostInfo{Host: route.Host{Addr: hostN(1)}, Overloaded: true, Since: clk.Now(), VErr: 5}
			}
			if hi != want {
				t.Fatalf("host = %+v, want %+v", hi, want)
			}
		})
	}
}

func TestWindowEndOnSuccess(t *testing.T) {
	clk := newFakeClock()
	tbl := newStatic(t, clk, Settings{}, hostN(1))
	report(tbl, hostN(1), fail, 9) // 9/10 failed by the window end, with the success below
	clk.Advance(20 * time.Second)
	tbl.Tick()
	report(tbl, hostN(1), 0, 1)
	wantState(t, tbl, hostN(1), true, "window end reached by a success")
}

func TestOverloadTimeoutOnReport(t *testing.T) {
	for _, ret := range []int32{0, fail} {
		clk := newFakeClock()
		s := DefaultSettings()
		s.SuccRate, s.ContinSuccLimit = 1, 1000 // successes alone cannot recover it
		tbl := newStatic(t, clk, s, hostN(1))
		overload(t, tbl, hostN(1))
		clk.Advance(15*time.Second - time.Millisecond)
		tbl.Tick()
		report(tbl, hostN(1), ret, 1)
		wantState(t, tbl, hostN(1), true, "just before overload_timeout")
		clk.Advance(time.Millisecond)
		tbl.Tick()
		report(tbl, hostN(1), ret, 1)
		hi := wantState(t, tbl, hostN(1), false, "at overload_timeout")
		if want := (HostInfo{Host: route.Host{Addr: hostN(1)}, Since: clk.Now(), VSucc: 180}); hi != want {
			t.Fatalf("retcode %d: host = %+v, want %+v", ret, hi, want)
		}
	}
}

func TestOverloadTimeoutBySweep(t *testing.T) {
	clk := newFakeClock()
	tbl := newStatic(t, clk, Settings{}, hostN(1), hostN(2))
	overload(t, tbl, hostN(1))
	clk.Advance(14 * time.Second)
	tbl.Sweep()
	wantState(t, tbl, hostN(1), true, "sweep before overload_timeout")
	clk.Advance(time.Second)
	tbl.Sweep()
	hi := wantState(t, tbl, hostN(1), false, "sweep at overload_timeout")
	if want := (HostInfo{Host: route.Host{Addr: hostN(1)}, Since: clk.Now(), VSucc: 180}); hi != want {
		t.Fatalf("host = %+v, want %+v", hi, want)
	}
	if st := tbl.Stats(); st.HostsIdle != 2 || st.HostsOverloaded != 0 {
		t.Fatalf("gauges: %+v", st)
	}
	// It is served again.
	seen := map[Host]bool{}
	for range 4 {
		h, ret := tbl.GetHost(tmod, tcmd)
		if ret != codec.RetSucc {
			t.Fatalf("ret %v", ret)
		}
		seen[h] = true
	}
	if !seen[hostN(1)] || !seen[hostN(2)] {
		t.Fatalf("picks after recovery: %v", seen)
	}
}

func TestAllOverloadedProbes(t *testing.T) {
	clk := newFakeClock()
	tbl := newStatic(t, clk, Settings{}, hostN(1), hostN(2))
	overload(t, tbl, hostN(1))
	overload(t, tbl, hostN(2))
	// access_cnt starts at 0: calls 1..10 raise it to 10 and get RetOverload, call 11
	// finds it at probe_num, resets it and probes; and so on, round-robin over the
	// overloaded hosts.
	var probes []Host
	for call := 1; call <= 44; call++ {
		h, ret := tbl.GetHost(tmod, tcmd)
		if call%11 == 0 {
			if ret != codec.RetSucc {
				t.Fatalf("call %d: ret %v, want a probe", call, ret)
			}
			probes = append(probes, h)
		} else if ret != codec.RetOverload || h != (Host{}) {
			t.Fatalf("call %d: got %v %v, want RetOverload and no host", call, h, ret)
		}
	}
	want := []Host{hostN(1), hostN(2), hostN(1), hostN(2)}
	for i := range want {
		if probes[i] != want[i] {
			t.Fatalf("probes %v, want %v", probes, want)
		}
	}
	ki, _ := keyInfo(tbl, Key{Modid: tmod, Cmdid: tcmd})
	if ki.AccessCnt != 0 {
		t.Fatalf("access_cnt after a probe = %d, want 0", ki.AccessCnt)
	}
	tbl.GetHost(tmod, tcmd)
	if ki, _ := keyInfo(tbl, Key{Modid: tmod, Cmdid: tcmd}); ki.AccessCnt != 1 {
		t.Fatalf("access_cnt = %d, want 1", ki.AccessCnt)
	}
}

func TestProbeWithIdleHosts(t *testing.T) {
	s := DefaultSettings()
	s.ProbeNum = 3
	clk := newFakeClock()
	tbl := newStatic(t, clk, s, hostN(1), hostN(2), hostN(3))
	// Idle hosts only: access_cnt does not move.
	for range 7 {
		tbl.GetHost(tmod, tcmd)
	}
	if ki, _ := keyInfo(tbl, Key{Modid: tmod, Cmdid: tcmd}); ki.AccessCnt != 0 {
		t.Fatalf("access_cnt moved with no overloaded host: %d", ki.AccessCnt)
	}
	overload(t, tbl, hostN(3))
	// Calls 1..3 go to idle hosts (round-robin), call 4 probes host 3; repeat.
	var got []Host
	for range 12 {
		h, ret := tbl.GetHost(tmod, tcmd)
		if ret != codec.RetSucc {
			t.Fatalf("ret %v", ret)
		}
		got = append(got, h)
	}
	for i, h := range got {
		isProbe := (i+1)%4 == 0
		if isProbe != (h == hostN(3)) {
			t.Fatalf("picks %v: call %d probe=%v", got, i+1, isProbe)
		}
	}
	// The idle picks keep their cycle: 7 picks before, so the next idle host is
	// index 7%2 of the idle set [1, 2] (host 3 left it) and they alternate.
	idle := []Host{}
	for i, h := range got {
		if (i+1)%4 != 0 {
			idle = append(idle, h)
		}
	}
	for i := 1; i < len(idle); i++ {
		if idle[i] == idle[i-1] {
			t.Fatalf("idle picks do not alternate: %v", idle)
		}
	}
}

func TestRoundRobinExactCycle(t *testing.T) {
	clk := newFakeClock()
	hosts := []Host{hostN(5), hostN(1), hostN(4), hostN(2), hostN(3)}
	tbl := newStatic(t, clk, Settings{}, hosts...)
	first := make([]Host, len(hosts))
	for i := range first {
		h, ret := tbl.GetHost(tmod, tcmd)
		if ret != codec.RetSucc {
			t.Fatalf("ret %v", ret)
		}
		first[i] = h
	}
	seen := map[Host]bool{}
	for _, h := range first {
		seen[h] = true
	}
	if len(seen) != len(hosts) {
		t.Fatalf("first cycle %v does not hold every host once", first)
	}
	for cycle := 1; cycle < 20; cycle++ {
		for i := range first {
			if h, _ := tbl.GetHost(tmod, tcmd); h != first[i] {
				t.Fatalf("cycle %d pick %d: %v, want %v", cycle, i, h, first[i])
			}
		}
	}
}

func TestRoundRobinConcurrentSpread(t *testing.T) {
	const (
		nHosts   = 10
		nWorkers = 8
		calls    = 10_000
	)
	var hosts []Host
	for i := range nHosts {
		hosts = append(hosts, hostN(i+1))
	}
	tbl := newStatic(t, newFakeClock(), Settings{}, hosts...)
	counts := make([]map[Host]int, nWorkers)
	var wg sync.WaitGroup
	for w := range nWorkers {
		counts[w] = map[Host]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls / nWorkers {
				h, _ := tbl.GetHost(tmod, tcmd)
				counts[w][h]++
			}
		}()
	}
	wg.Wait()
	total := map[Host]int{}
	for _, c := range counts {
		for h, n := range c {
			total[h] += n
		}
	}
	even := calls / nHosts
	for _, h := range hosts {
		if n := total[h]; n < even*99/100 || n > even*101/100 {
			t.Errorf("host %v picked %d times, want %d ±1%%", h, n, even)
		}
	}
}
