package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/loadgen/report"
)

// compareRun is a small run report with the given p99 (µs).
func compareRun(p99 float64) *report.Report {
	lat := report.Latency{Count: 1000, Exact: true, Min: 10, Mean: p99 / 4, P50: p99 / 5, P90: p99 / 2, P99: p99, P999: p99 * 2, P9999: p99 * 3, Max: p99 * 4}
	return &report.Report{Schema: report.SchemaVersion, Mode: "open", TargetRate: 1000, DurationS: 1, Sent: 1000, Received: 1000,
		Rate: 1000, LatencyUS: lat, ByType: report.ByType{GetHost: report.TypeStats{Sent: 1000, Received: 1000, Rate: 1000, LatencyUS: lat}},
		Histogram: []report.Bucket{{LowUS: p99 / 5, HighUS: p99 / 4, Count: 990}, {LowUS: p99, HighUS: p99 * 4, Count: 10}}}
}

// compareSweep is a small sweep report whose capacity is the highest of rates that met.
func compareSweep(rates []float64, met []bool) *report.SweepReport {
	s := &report.SweepReport{Schema: report.SweepSchemaVersion, Objective: "p99=1ms loss<=0.1%", StepDurationS: 1}
	for i, r := range rates {
		rep := compareRun(500)
		if !met[i] {
			rep = compareRun(2000)
		}
		rep.TargetRate = r
		s.Steps = append(s.Steps, report.SweepStep{TargetRate: r, Met: met[i], Report: rep})
		if met[i] && r > s.Capacity {
			s.Capacity, s.CapacityAnswers, s.Found = r, rep.Rate, true
		}
	}
	return s
}

// writeJSON writes v as a -json file in dir and returns its path.
func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCompareExitCodes runs lars-loadgen compare on runs and sweeps: exit 0 when B is
// not worse than A beyond the threshold, 1 when it is, with the table on stdout.
func TestCompareExitCodes(t *testing.T) {
	dir := t.TempDir()
	runA := writeJSON(t, dir, "a.json", compareRun(400))
	runB := writeJSON(t, dir, "b.json", compareRun(520)) // p99 +30%
	sweepA := writeJSON(t, dir, "sa.json", compareSweep([]float64{1000, 2000, 4000, 3000}, []bool{true, true, false, true}))
	sweepB := writeJSON(t, dir, "sb.json", compareSweep([]float64{1000, 2000, 4000, 3000, 2500}, []bool{true, true, false, false, true}))
	page := filepath.Join(dir, "cmp.html")
	for _, c := range []struct {
		args []string
		code int
		out  []string
	}{
		{[]string{runA, runA}, exitOK, []string{"comparing two runs, threshold 10%", "p99 µs", "400.0", "0%", "B is not worse than A beyond 10% on p99."}},
		{[]string{runA, runB}, exitMissed, []string{"400.0", "520.0", "+30.0%  WORSE", "B is worse than A beyond 10%: p99 +30.0% (400.0 -> 520.0)."}},
		{[]string{runB, runA}, exitOK, []string{"-23.1%"}},
		{[]string{"-threshold", "40", runA, runB}, exitOK, []string{"threshold 40%", "+30.0%"}},
		{[]string{runA, "-threshold=25%", runB}, exitMissed, []string{"threshold 25%"}},
		{[]string{runA, runB, "-threshold", "30.5", "-html", page}, exitOK, []string{"not worse"}},
		{[]string{sweepA, sweepB}, exitMissed, []string{"comparing two sweeps", "capacity /s", "3000", "2500", "-16.7%  WORSE", "capacity -16.7% (3000 -> 2500)"}},
		{[]string{sweepB, sweepA, "-html", page}, exitOK, []string{"+20.0%", "B is not worse than A beyond 10% on capacity."}},
		{[]string{sweepA, sweepB, "-threshold", "20"}, exitOK, nil},
	} {
		code, stdout, stderr := runCLI(append([]string{"compare"}, c.args...)...)
		if code != c.code || stderr != "" {
			t.Errorf("compare %q: exit %d, stderr %q; want exit %d\n%s", c.args, code, stderr, c.code, stdout)
		}
		for _, want := range c.out {
			if !strings.Contains(stdout, want) {
				t.Errorf("compare %q: stdout lacks %q:\n%s", c.args, want, stdout)
			}
		}
	}
	h, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(h); !strings.HasPrefix(s, "<!DOCTYPE html>") || !strings.Contains(s, `id="compare-steps"`) || !strings.Contains(s, "<svg") {
		t.Errorf("-html did not write the comparison of the sweeps (last written)")
	}
}

// TestCompareBadInput: every kind of bad input exits 2 with one line on stderr and
// nothing on stdout.
func TestCompareBadInput(t *testing.T) {
	dir := t.TempDir()
	run := writeJSON(t, dir, "run.json", compareRun(400))
	sweep := writeJSON(t, dir, "sweep.json", compareSweep([]float64{1000}, []bool{true}))
	notReport := writeJSON(t, dir, "other.json", map[string]int{"sent": 3})
	future := writeJSON(t, dir, "future.json", map[string]string{"schema": "lars-loadgen/9"})
	notJSON := filepath.Join(dir, "text.json")
	if err := os.WriteFile(notJSON, []byte("sent 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{run, sweep}, "cannot compare a run"},
		{[]string{sweep, run}, "cannot compare a sweep"},
		{[]string{run, notReport}, "not a lars-loadgen report"},
		{[]string{future, run}, "unknown schema"},
		{[]string{run, notJSON}, "not a lars-loadgen report"},
		{[]string{run, filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{run}, "want two report files, got 1"},
		{nil, "want two report files, got 0"},
		{[]string{run, run, run}, "want two report files, got 3"},
		{[]string{run, run, "-threshold", "-5"}, "invalid -threshold"},
		{[]string{run, run, "-threshold", "lots"}, "invalid -threshold"},
		{[]string{run, run, "-nosuchflag"}, "not defined"},
		{[]string{run, run, "-html", filepath.Join(dir, "no", "such", "dir.html")}, "cannot write -html"},
	} {
		code, stdout, stderr := runCLI(append([]string{"compare"}, c.args...)...)
		if code != exitUsage || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "lars-loadgen compare: ") || !strings.Contains(stderr, c.want) {
			t.Errorf("compare %q: exit %d, stderr %q: want exit 2 and one line with %q", c.args, code, stderr, c.want)
		}
		if stdout != "" && !strings.Contains(c.want, "-html") {
			t.Errorf("compare %q: stdout %q, want nothing", c.args, stdout)
		}
	}
	if code, _, stderr := runCLI("compare", "-h"); code != exitOK || !strings.Contains(stderr, "Usage: lars-loadgen compare") {
		t.Errorf("compare -h: exit %d, %q", code, stderr)
	}
}
