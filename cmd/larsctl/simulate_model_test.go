package main

import (
	"strings"
	"testing"

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

func TestSimulateCapacityWarmUpAndZones(t *testing.T) {
	a := fake(t)
	a.SetRoute(1, 1, host("10.0.0.1:80"), host("10.0.0.2:80"))
	// 20 calls well within a second, round robin: 10 each. Host 2 takes 3 a second
	// and sheds the rest; host 1, cold for an hour with a capacity of 10, takes 1.
	code, out, errOut := larsctl(a, "simulate", "-n", "20", "-seed", "3", "-host-latency", "*=5ms",
		"-host-capacity", "10.0.0.2:80=3,10.0.0.1:80=10", "-host-warmup", "10.0.0.1:80=1h",
		"-host-zone", "10.0.0.1:80=eu,*=us", "-zone", "eu", "-cross-zone", "10ms", "1", "1")
	check(t, code, out, errOut, 0, "-")
	for _, want := range []string{"host 10.0.0.1:80 succ 1 err 9\n", "host 10.0.0.2:80 succ 3 err 7\n",
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
