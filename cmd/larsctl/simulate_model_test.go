package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
)

func TestSimulateModelledHosts(t *testing.T) {
	a := fake(t)
	a.SetRoute(1, 1, host("10.0.0.1:80"), host("10.0.0.2:80"))
	code, out, errOut := larsctl(a, "simulate", "-n", "20", "-seed", "3",
		"-host-latency", "10.0.0.1:80=50ms,*=5ms", "-host-fail", "10.0.0.2:80=1", "1", "1")
	check(t, code, out, errOut, 0, "-")
	for _, want := range []string{"host 10.0.0.1:80 succ 10 err 0\n", "host 10.0.0.2:80 succ 0 err 10\n", "latency p50 50ms p99 50ms\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !a.WaitCount(codec.MsgReportRequest, 20, waitLimit) {
		t.Fatal("reports did not arrive")
	}
	for _, r := range a.Reports() {
		if (r.Host == host("10.0.0.2:80")) != (r.Retcode == 1) {
			t.Errorf("report %+v: only the failing host's calls fail", r)
		}
	}
	code, out, errOut = larsctl(a, "simulate", "-host-fail", "10.0.0.2:80=2", "1", "1")
	check(t, code, out, errOut, 2, "")
}

func TestReportLatency(t *testing.T) {
	a := fake(t)
	code, out, errOut := larsctl(a, "report", "-latency", "3ms", "7", "8", "192.168.1.1", "9000", "0")
	check(t, code, out, errOut, 0, "")
	if !a.WaitCount(codec.MsgReportRequest, 1, waitLimit) {
		t.Fatal("report did not arrive")
	}
	if r := a.Reports()[0]; r.Modid != 7 || r.Cmdid != 8 || r.Host != host("192.168.1.1:9000") || r.Port != a.Ports()[0] {
		t.Fatalf("report %+v", r)
	}
	code, out, errOut = larsctl(a, "report", "-latency", "-1s", "7", "8", "192.168.1.1", "9000", "0")
	check(t, code, out, errOut, 2, "")
}

func TestSimulateZonesAndLimitFlags(t *testing.T) {
	a := fake(t)
	a.SetRoute(1, 1, host("10.0.0.1:80"), host("10.0.0.2:80"))
	// Round robin: 10 calls each. Host 1 is in the caller's zone (5 ms); host 2 is
	// not (5 ms + 10 ms). The capacities are far above what 20 calls reach.
	code, out, errOut := larsctl(a, "simulate", "-n", "20", "-seed", "3", "-host-latency", "*=5ms",
		"-host-capacity", "*=100000", "-host-warmup", "10.0.0.1:80=1s",
		"-host-zone", "10.0.0.1:80=eu,*=us", "-zone", "eu", "-cross-zone", "10ms", "1", "1")
	check(t, code, out, errOut, 0, "-")
	for _, want := range []string{"host 10.0.0.1:80 succ 10 err 0\n", "host 10.0.0.2:80 succ 10 err 0\n",
		"latency p50 15ms p99 15ms\n", "in zone 10 of 20\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, args := range [][]string{
		{"simulate", "-host-capacity", "10.0.0.1:80=0", "1", "1"},
		{"simulate", "-host-warmup", "10.0.0.1:80=-1s", "1", "1"},
		{"simulate", "-host-zone", "10.0.0.1:80=a b", "1", "1"},
		{"simulate", "-host-capacity", "10.0.0.1=5", "1", "1"},
		{"simulate", "-zone", "x/y", "1", "1"},
	} {
		code, out, errOut := larsctl(a, args...)
		check(t, code, out, errOut, 2, "")
	}
}

// TestHostLimitsCapacityAndWarmUp drives the model on explicit times: a host sheds the
// calls beyond its capacity within any one second, and a cold one takes a tenth of it
// at first, all of it after its warm-up.
func TestHostLimitsCapacityAndWarmUp(t *testing.T) {
	var l hostLimits
	if err := l.parse("10.0.0.1:80=3,10.0.0.2:80=20", "10.0.0.2:80=10s", ""); err != nil {
		t.Fatal(err)
	}
	a, b := netip.MustParseAddrPort("10.0.0.1:80"), netip.MustParseAddrPort("10.0.0.2:80")
	shedAt := func(h netip.AddrPort, from time.Duration, n int, step time.Duration) (shed int) {
		for i := range n {
			if _, s := l.call(h, from+time.Duration(i)*step); s {
				shed++
			}
		}
		return shed
	}
	if got := shedAt(a, 0, 10, time.Millisecond); got != 7 {
		t.Fatalf("capacity 3, 10 calls in 10 ms: %d shed, want 7", got)
	}
	if got := shedAt(a, 2*time.Second, 3, 400*time.Millisecond); got != 0 {
		t.Fatalf("capacity 3, a call every 400 ms: %d shed, want 0", got)
	}
	// Host b, capacity 20 after a 10 s warm-up from its first call: 2 a second at first.
	if got := shedAt(b, 0, 10, time.Millisecond); got != 8 {
		t.Fatalf("cold, 10 calls at once: %d shed, want 8 (a tenth of 20 taken)", got)
	}
	if got := shedAt(b, 20*time.Second, 20, time.Millisecond); got != 0 {
		t.Fatalf("warm, 20 calls at once: %d shed, want 0", got)
	}
}
