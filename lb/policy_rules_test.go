package lb

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/fakeclock"
)

// newStaticPolicies is newStatic with policies.
func newStaticPolicies(t testing.TB, clk *fakeclock.Clock, pol Policies, hosts ...Host) *Table {
	t.Helper()
	tbl := NewTable(Config{Clock: clk.Now, Static: true, Policies: pol})
	tbl.ReplaceRoutes(routes(map[Key][]Host{{Modid: tmod, Cmdid: tcmd}: hosts}))
	return tbl
}

func mustGet(t *testing.T, tbl *Table) Host {
	t.Helper()
	h, ret := tbl.GetHost(tmod, tcmd)
	if ret != codec.RetSucc {
		t.Fatalf("GetHost ret %v, want success", ret)
	}
	return h
}

func wantPanic(t *testing.T, tbl *Table, want bool, msg string) KeyInfo {
	t.Helper()
	ki, _ := keyInfo(tbl, Key{Modid: tmod, Cmdid: tcmd})
	if ki.Panic != want {
		t.Fatalf("%s: panic = %v, want %v", msg, ki.Panic, want)
	}
	return ki
}

func TestPanicEnteredAndLeftAtThreshold(t *testing.T) {
	for _, pick := range []Policy{PolicyRoundRobin, PolicyP2C, PolicyEWMA} {
		t.Run(pick.String(), func(t *testing.T) {
			clk := newFakeClock()
			hosts := []Host{hostN(1), hostN(2), hostN(3), hostN(4)}
			tbl := newStaticPolicies(t, clk, Policies{Pick: pick, PanicThreshold: 50}, hosts...)
			overload(t, tbl, hostN(1))
			overload(t, tbl, hostN(2))
			// 2 of 4 idle: 50% is not below 50%, Lars's rules apply: 10 idle calls, a probe.
			wantPanic(t, tbl, false, "half idle")
			for i := range 11 {
				h := mustGet(t, tbl)
				over := h == hostN(1) || h == hostN(2)
				if over != (i == 10) {
					t.Fatalf("half idle, call %d: got %v", i+1, h)
				}
			}
			// 1 of 4 idle: below the threshold, every host round robin, nothing refused.
			overload(t, tbl, hostN(3))
			wantPanic(t, tbl, true, "a quarter idle")
			seen := map[Host]int{}
			for range 40 {
				seen[mustGet(t, tbl)]++
			}
			for _, h := range hosts {
				if seen[h] != 10 {
					t.Fatalf("panic picks %v, want each host 10 times", seen)
				}
			}
			ki := wantPanic(t, tbl, true, "after panic picks")
			if ki.Panics != 40 || tbl.Stats().PanicPicks != 40 {
				t.Fatalf("panics: key %d, table %d, want 40", ki.Panics, tbl.Stats().PanicPicks)
			}
			// Every host overloaded: still served.
			overload(t, tbl, hostN(4))
			for range 8 {
				mustGet(t, tbl)
			}
			// Two recover (6 successes each): back at 50%, panic left.
			report(tbl, hostN(3), 0, 6)
			report(tbl, hostN(4), 0, 6)
			wantPanic(t, tbl, false, "half idle again")
			before := tbl.Stats().PanicPicks
			for range 10 {
				if h := mustGet(t, tbl); h != hostN(3) && h != hostN(4) {
					t.Fatalf("after panic: got overloaded %v before the probe", h)
				}
			}
			if tbl.Stats().PanicPicks != before {
				t.Fatal("panic picks counted after panic was left")
			}
		})
	}
}

func TestPanicOffRefuses(t *testing.T) {
	clk := newFakeClock()
	tbl := newStaticPolicies(t, clk, Policies{Pick: PolicyP2C}, hostN(1))
	overload(t, tbl, hostN(1))
	if _, ret := tbl.GetHost(tmod, tcmd); ret != codec.RetOverload {
		t.Fatalf("ret %v, want RetOverload without panic mode", ret)
	}
}

func TestPanicThresholdHundred(t *testing.T) {
	clk := newFakeClock()
	tbl := newStaticPolicies(t, clk, Policies{PanicThreshold: 100}, hostN(1), hostN(2), hostN(3), hostN(4))
	wantPanic(t, tbl, false, "all idle")
	overload(t, tbl, hostN(1)) // 75% < 100%
	wantPanic(t, tbl, true, "one overloaded")
}

// overloadAndRecover overloads h, checks the overload lasts within [lo, hi], then
// moves the clock past it and sweeps h back to idle.
func overloadFor(t *testing.T, clk *fakeclock.Clock, tbl *Table, h Host, lo, hi time.Duration) {
	t.Helper()
	overload(t, tbl, h)
	d := hostInfo(t, tbl, h).OverloadFor
	if d < lo || d > hi {
		t.Fatalf("overload lasts %v, want within [%v, %v]", d, lo, hi)
	}
	clk.Advance(d - time.Millisecond)
	tbl.Sweep()
	wantState(t, tbl, h, true, "just before its overload ends")
	clk.Advance(time.Millisecond)
	tbl.Sweep()
	wantState(t, tbl, h, false, "when its overload ends")
}

func TestOverloadBackoffGrowsCapsAndDecays(t *testing.T) {
	clk := newFakeClock()
	tbl := newStaticPolicies(t, clk, Policies{OverloadBackoff: 2, OverloadTimeoutMax: time.Minute}, hostN(1), hostN(2))
	pct := func(d time.Duration, p float64) time.Duration { return time.Duration(float64(d) * p) }
	span := func(d time.Duration) (time.Duration, time.Duration) { return pct(d, 0.9), pct(d, 1.1) }
	lo, hi := span(15 * time.Second)
	overloadFor(t, clk, tbl, hostN(1), lo, hi) // n = 0: 15s
	lo, hi = span(30 * time.Second)
	overloadFor(t, clk, tbl, hostN(1), lo, hi) // again at once: 30s
	lo, hi = span(time.Minute)
	overloadFor(t, clk, tbl, hostN(1), lo, hi) // 60s: the cap
	overloadFor(t, clk, tbl, hostN(1), lo, hi) // stays at the cap
	if e := hostInfo(t, tbl, hostN(1)).Ejections; e != 2 {
		t.Fatalf("ejections at the cap %d, want 2", e)
	}
	// 14s idle is less than one overload_timeout: no decay, still 60s.
	clk.Advance(14 * time.Second)
	tbl.Tick()
	overloadFor(t, clk, tbl, hostN(1), lo, hi)
	// 30s idle: two steps back, 15s.
	clk.Advance(30 * time.Second)
	tbl.Tick()
	lo, hi = span(15 * time.Second)
	overloadFor(t, clk, tbl, hostN(1), lo, hi)
	// The other host never moved.
	if hi := hostInfo(t, tbl, hostN(2)); hi.Ejections != 0 || hi.Overloaded {
		t.Fatalf("host 2: %+v", hi)
	}
}

func TestOverloadBackoffJitterSpreads(t *testing.T) {
	p := newParams(DefaultSettings(), Policies{OverloadBackoff: 2})
	lo, _ := p.overloadFor(0, 0, 0, 0)
	hi, _ := p.overloadFor(0, 0, 0, 0.999999)
	if lo != int64(13500*time.Millisecond) || hi < int64(16499*time.Millisecond) || hi > int64(16500*time.Millisecond) {
		t.Fatalf("jitter bounds %v..%v, want 13.5s..16.5s", time.Duration(lo), time.Duration(hi))
	}
	long := DefaultSettings()
	long.OverloadTimeout = 10 * time.Minute // above the default cap of 300s
	lp := newParams(long, Policies{OverloadBackoff: 2})
	if d, n := lp.overloadFor(0, 0, 0, 0.5); d != int64(10*time.Minute) || n != 0 {
		t.Fatalf("overload_timeout above the default cap: %v, n %d; want 10m, capped", time.Duration(d), n)
	}
	off := newParams(DefaultSettings(), Policies{})
	if d, n := off.overloadFor(5, 0, 0, 0.5); d != int64(15*time.Second) || n != 0 {
		t.Fatalf("backoff off: %v, %d", time.Duration(d), n)
	}
}

func TestP2CInflightCountedAndTimedOut(t *testing.T) {
	clk := newFakeClock()
	tbl := newStaticPolicies(t, clk, Policies{Pick: PolicyP2C}, hostN(1), hostN(2))
	// With two hosts both are the two choices: the one with fewer calls in flight
	// wins, so calls never reported keep the two within one of each other.
	inflight := func(h Host) uint32 { return hostInfo(t, tbl, h).InFlight }
	for i := range 10 {
		mustGet(t, tbl)
		if a, b := inflight(hostN(1)), inflight(hostN(2)); a+b != uint32(i+1) || a > b+1 || b > a+1 {
			t.Fatalf("after %d calls: in flight %d and %d", i+1, a, b)
		}
	}
	if inflight(hostN(1)) != 5 || inflight(hostN(2)) != 5 {
		t.Fatalf("in flight %d and %d, want 5 and 5", inflight(hostN(1)), inflight(hostN(2)))
	}
	// Reports end calls: host 1 now has fewer and gets the next three.
	report(tbl, hostN(1), 0, 3)
	report(tbl, hostN(1), fail, 1)
	if n := inflight(hostN(1)); n != 1 {
		t.Fatalf("host 1 in flight after 4 reports: %d, want 1", n)
	}
	for range 3 {
		if h := mustGet(t, tbl); h != hostN(1) {
			t.Fatalf("got %v, want the less loaded host 1", h)
		}
	}
	// More reports than calls do not go below zero.
	report(tbl, hostN(2), 0, 20)
	if n := inflight(hostN(2)); n != 0 {
		t.Fatalf("host 2 in flight %d, want 0", n)
	}
	// Calls never reported: still counted one inflight_timeout later (previous
	// epoch), forgotten at the next.
	mustGet(t, tbl) // host 2, in flight 1; host 1 has 4
	clk.Advance(time.Second)
	tbl.Tick()
	if inflight(hostN(1)) != 4 || inflight(hostN(2)) != 1 {
		t.Fatalf("one epoch later: %d and %d, want 4 and 1", inflight(hostN(1)), inflight(hostN(2)))
	}
	clk.Advance(time.Second)
	tbl.Tick()
	if inflight(hostN(1)) != 0 || inflight(hostN(2)) != 0 {
		t.Fatalf("two epochs later: %d and %d, want 0 and 0", inflight(hostN(1)), inflight(hostN(2)))
	}
}

func TestP2CReportEndsPreviousEpochCall(t *testing.T) {
	var l hostLoad
	l.begin(7)
	l.begin(8)
	if n := l.outstanding(8); n != 2 {
		t.Fatalf("outstanding %d, want 2", n)
	}
	l.end(8)
	l.end(8) // the second ends the call of epoch 7
	if n := l.outstanding(8); n != 0 {
		t.Fatalf("outstanding %d, want 0", n)
	}
	for range inflightMax + 10 {
		l.begin(9)
	}
	if n := l.outstanding(9); n != inflightMax {
		t.Fatalf("saturated at %d, want %d", n, inflightMax)
	}
	if n := l.outstanding(20); n != 0 {
		t.Fatalf("far later %d, want 0", n)
	}
}

func TestP2CProbesUnchanged(t *testing.T) {
	clk := newFakeClock()
	tbl := newStaticPolicies(t, clk, Policies{Pick: PolicyP2C}, hostN(1), hostN(2), hostN(3))
	overload(t, tbl, hostN(3))
	for i := range 22 {
		h := mustGet(t, tbl)
		if (h == hostN(3)) != (i%11 == 10) {
			t.Fatalf("call %d: %v", i+1, h)
		}
	}
	if n := hostInfo(t, tbl, hostN(3)).InFlight; n != 2 {
		t.Fatalf("probes in flight %d, want 2", n)
	}
}

func TestEWMAUpdateAndDecay(t *testing.T) {
	clk := newFakeClock()
	tbl := newStaticPolicies(t, clk, Policies{Pick: PolicyEWMA}, hostN(1), hostN(2))
	lat := func(h Host) time.Duration { return hostInfo(t, tbl, h).Latency }
	tbl.ReportLatency(tmod, tcmd, hostN(1), 0, 100*time.Millisecond)
	tbl.ReportLatency(tmod, tcmd, hostN(2), 0, 10*time.Millisecond)
	// Host 2 costs 10ms x (in flight + 1): below host 1's 100ms for 9 calls in flight.
	for i := range 9 {
		if h := mustGet(t, tbl); h != hostN(2) {
			t.Fatalf("call %d: %v, want the fast host 2", i+1, h)
		}
	}
	// Peak: a higher latency is taken at once.
	tbl.ReportLatency(tmod, tcmd, hostN(2), 0, 200*time.Millisecond)
	if l := lat(hostN(2)); l != 200*time.Millisecond {
		t.Fatalf("after a 200ms peak: %v", l)
	}
	// Decay: one ewma_decay later the cost has fallen by e.
	clk.Advance(DefaultEWMADecay)
	tbl.Tick()
	if l, w := lat(hostN(2)), 200e6/math.E; math.Abs(float64(l)-w) > 1e3 {
		t.Fatalf("decayed latency %v, want %v", l, time.Duration(w))
	}
	// A lower latency is averaged in with weight 1 - 1/e.
	tbl.ReportLatency(tmod, tcmd, hostN(2), 0, 10*time.Millisecond)
	if l, w := lat(hostN(2)), 200e6/math.E+10e6*(1-1/math.E); math.Abs(float64(l)-w) > 1e3 {
		t.Fatalf("averaged latency %v, want %v", l, time.Duration(w))
	}
	// Reports without a latency and other policies leave it alone.
	before := lat(hostN(1))
	tbl.Report(tmod, tcmd, hostN(1), 0)
	if l := lat(hostN(1)); l != before {
		t.Fatalf("a report without latency moved it: %v -> %v", before, l)
	}
	rr := newStaticPolicies(t, clk, Policies{}, hostN(1))
	rr.ReportLatency(tmod, tcmd, hostN(1), 0, time.Second)
	if l := hostInfo(t, rr, hostN(1)).Latency; l != 0 {
		t.Fatalf("round robin kept a latency: %v", l)
	}
}

func TestEWMANewHostTriedNotFlooded(t *testing.T) {
	clk := newFakeClock()
	tbl := newStaticPolicies(t, clk, Policies{Pick: PolicyEWMA}, hostN(1), hostN(2))
	tbl.ReportLatency(tmod, tcmd, hostN(1), 0, 50*time.Millisecond)
	// Host 2 has no latency yet: tried first, then avoided while its call is out.
	if h := mustGet(t, tbl); h != hostN(2) {
		t.Fatalf("first call %v, want the unmeasured host 2", h)
	}
	for i := range 5 {
		if h := mustGet(t, tbl); h != hostN(1) {
			t.Fatalf("call %d: %v, want host 1 while host 2's first call is out", i+2, h)
		}
	}
}

func TestPoliciesValidate(t *testing.T) {
	s := DefaultSettings()
	if err := (Policies{}).Validate(s); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Policies{
		{Pick: 9},
		{PanicThreshold: -1},
		{PanicThreshold: 101},
		{OverloadBackoff: 0.5},
		{OverloadBackoff: math.NaN()},
		{OverloadTimeoutMax: time.Second},
		{InflightTimeout: -1},
		{EWMADecay: -1},
		{SlowStart: time.Millisecond},
		{SlowStart: 2 * time.Hour},
		{ZoneMinUsable: -1},
		{ZoneMinUsable: 101},
	} {
		if err := p.Validate(s); !errors.Is(err, ErrInvalidSettings) {
			t.Errorf("%+v: %v, want ErrInvalidSettings", p, err)
		}
	}
	got := NewTable(Config{Policies: Policies{Pick: PolicyEWMA}}).Policies()
	want := Policies{Pick: PolicyEWMA, OverloadTimeoutMax: DefaultOverloadTimeoutMax, InflightTimeout: DefaultInflightTimeout, EWMADecay: DefaultEWMADecay, ZoneMinUsable: DefaultZoneMinUsable}
	if got != want {
		t.Fatalf("Policies() = %+v, want %+v", got, want)
	}
}

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]Policy{"": PolicyRoundRobin, "rr": PolicyRoundRobin, "round_robin": PolicyRoundRobin, "p2c": PolicyP2C, "ewma": PolicyEWMA} {
		if got, err := ParsePolicy(in); err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %v, %v", in, got, err)
		}
		if got, _ := ParsePolicy(want.String()); got != want {
			t.Errorf("round trip of %v", want)
		}
	}
	if _, err := ParsePolicy("random"); !errors.Is(err, ErrInvalidSettings) {
		t.Fatalf("random: %v", err)
	}
}

func FuzzParsePolicySettings(f *testing.F) {
	for _, s := range []string{"", "rr", "p2c", "ewma", "2x", "1.5", "x", "NaN", "-1x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParsePolicy(s); err == nil {
			if back, err := ParsePolicy(p.String()); err != nil || back != p {
				t.Fatalf("%q: %v does not round-trip", s, p)
			}
		} else if !errors.Is(err, ErrInvalidSettings) {
			t.Fatalf("%q: error %v does not wrap ErrInvalidSettings", s, err)
		}
		if f, err := ParseFactor(s); err == nil {
			err := Policies{OverloadBackoff: f}.Validate(DefaultSettings())
			if ok := f == 0 || (f >= 1 && f <= 100); ok != (err == nil) {
				t.Fatalf("%q: factor %v, Validate %v", s, f, err)
			}
		}
	})
}
