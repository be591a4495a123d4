package report

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestComparePercentChange(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, c := range []struct{ a, b, want float64 }{
		{100, 110, 10},
		{200, 150, -25},
		{0, 0, 0},
		{0, 5, inf},     // loss from none to some
		{inf, inf, 0},   // no answer on either side
		{100, inf, inf}, // B got no answer: infinitely slower
		{inf, 100, nan}, // A got none: nothing to compare with
		{nan, 1, nan},
		{1, nan, nan},
	} {
		got := percentChange(c.a, c.b)
		if !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want)) && math.Abs(got-c.want) > 1e-9 {
			t.Errorf("percentChange(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func figure(c *Comparison, name string) CompareFigure {
	for _, f := range c.Figures {
		if f.Name == name {
			return f
		}
	}
	return CompareFigure{Name: "missing " + name}
}

// TestCompareRuns checks the figures of a comparison of runs and its verdict on p99
// against the threshold.
func TestCompareRuns(t *testing.T) {
	a := fixtureRun(30000, 5, fixtureLatency{20, 60, 400, 900, 3000}, 0.0001, &fixtureSLO)
	b := fixtureRun(30000, 5, fixtureLatency{22, 70, 520, 1300, 5000}, 0.0003, &fixtureSLO)
	c := CompareRuns("a.json", a, "b.json", b, 10)
	p99 := figure(c, "p99 µs")
	want := (b.LatencyUS.P99 - a.LatencyUS.P99) / a.LatencyUS.P99 * 100
	if p99.A != a.LatencyUS.P99 || p99.B != b.LatencyUS.P99 || math.Abs(p99.Change-want) > 1e-9 || !p99.Gate || !p99.Worse {
		t.Errorf("p99 %+v, want %v -> %v, %+.1f%%, judged and worse", p99, a.LatencyUS.P99, b.LatencyUS.P99, want)
	}
	if want < 25 || want > 35 {
		t.Fatalf("fixture p99 change %v, want about +30%%", want)
	}
	if reg := c.Regressions(); len(reg) != 1 || reg[0].Name != "p99 µs" {
		t.Errorf("regressions %v, want p99 only (the only judged figure)", reg)
	}
	if v := c.Verdict(); !strings.HasPrefix(v, "B is worse than A beyond 10%: p99 +") {
		t.Errorf("verdict %q", v)
	}
	rate := figure(c, "answers/s")
	if rate.Gate || rate.LowerIsBetter || rate.A != a.Rate || rate.B != b.Rate {
		t.Errorf("answers/s %+v", rate)
	}
	if loss := figure(c, "loss %"); !loss.LowerIsBetter || loss.Better() != -1 || math.Abs(loss.A-a.Loss*100) > 1e-12 {
		t.Errorf("loss %+v: want lower is better, B worse", loss)
	}
	for _, name := range []string{"mean µs", "p50 µs", "p90 µs", "p99.9 µs", "p99.99 µs", "max µs", "get_host p99 µs", "get_route p99 µs"} {
		if f := figure(c, name); f.Gate || !f.LowerIsBetter || f.Better() != -1 {
			t.Errorf("%s %+v: want an unjudged latency, worse in B", name, f)
		}
	}

	if c := CompareRuns("a", a, "b", b, 40); len(c.Regressions()) != 0 {
		t.Errorf("+30%% judged worse under a 40%% threshold")
	}
	if c := CompareRuns("b", b, "a", a, 10); len(c.Regressions()) != 0 || figure(c, "p99 µs").Better() != 1 {
		t.Errorf("a faster B judged worse: %v", c.Regressions())
	}
	if c := CompareRuns("a", a, "a", a, 0); len(c.Regressions()) != 0 || figure(c, "p99 µs").FormatChange() != "0%" {
		t.Errorf("a run compared with itself: %v", c.Regressions())
	}
}

// TestCompareRunWithoutAnswers: a B that got no answer has no latency, which must read
// as worse, not as fast.
func TestCompareRunWithoutAnswers(t *testing.T) {
	a := fixtureRun(1000, 2, fixtureLatency{20, 60, 400, 900, 3000}, 0, nil)
	b := *a
	b.Received, b.Timeouts, b.Loss, b.Rate, b.LatencyUS = 0, b.Sent, 1, 0, Latency{}
	c := CompareRuns("a", a, "b", &b, 10)
	if f := figure(c, "p99 µs"); !math.IsInf(f.B, 1) || !f.Worse || f.Format(f.B) != "no answer" {
		t.Errorf("p99 of a run without answers: %+v", f)
	}
}

// TestCompareSweeps checks capacity before and after, judged against the threshold.
func TestCompareSweeps(t *testing.T) {
	a, b := fixtureSweep(), fixtureSweepB()
	c := CompareSweeps("a", a, "b", b, 10)
	capacity := figure(c, "capacity /s")
	if capacity.A != 35000 || capacity.B != 30000 || math.Abs(capacity.Change-(-100.0/7)) > 1e-9 || !capacity.Gate || !capacity.Worse {
		t.Errorf("capacity %+v, want 35000 -> 30000, -14.3%%, worse", capacity)
	}
	if f := figure(c, "p99 µs at capacity"); f.A != a.Steps[7].Report.LatencyUS.P99 || f.B != b.Steps[5].Report.LatencyUS.P99 || f.Gate {
		t.Errorf("p99 at capacity %+v: want the deciding steps' p99, not judged", f)
	}
	if c := CompareSweeps("a", a, "b", b, 15); len(c.Regressions()) != 0 {
		t.Errorf("-14.3%% judged worse under a 15%% threshold")
	}
	if c := CompareSweeps("b", b, "a", a, 10); len(c.Regressions()) != 0 {
		t.Errorf("a higher capacity judged worse")
	}
	none := buildSweep([]fixtureStep{{5000, 0, 5000, 0, false}, {5000, 1, 5000, 0, false}})
	if c := CompareSweeps("a", a, "none", none, 10); len(c.Regressions()) != 1 || figure(c, "capacity /s").Change != -100 {
		t.Errorf("capacity lost entirely: %+v", figure(c, "capacity /s"))
	}
	if c := CompareSweeps("none", none, "none", none, 10); len(c.Regressions()) != 0 || !math.IsNaN(figure(c, "p99 µs at capacity").A) {
		t.Errorf("two searches without capacity: %v", c.Regressions())
	}
	var text strings.Builder
	if err := c.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"comparing two sweeps, threshold 10%", "capacity 35000/s", "capacity /s", "35000", "30000", "-14.3%  WORSE", "B is worse than A beyond 10%: capacity -14.3% (35000 -> 30000)."} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}

func TestDecodeReport(t *testing.T) {
	runJSON, _ := json.Marshal(fixtureRun(1000, 2, fixtureLatency{20, 60, 400, 900, 3000}, 0, nil))
	sweepJSON, _ := json.Marshal(fixtureSweep())
	if run, sweep, err := DecodeReport(runJSON); err != nil || run == nil || sweep != nil || run.Sent == 0 {
		t.Errorf("run report: %v, %v, %v", run, sweep, err)
	}
	if run, sweep, err := DecodeReport(sweepJSON); err != nil || run != nil || sweep == nil || sweep.Capacity != 35000 {
		t.Errorf("sweep report: %v, %v, %v", run, sweep, err)
	}
	future := strings.Replace(string(runJSON), `"schema":"lars-loadgen/1",`, `"schema":"lars-loadgen/1","added_later":[1,2],`, 1)
	if run, _, err := DecodeReport([]byte(future)); err != nil || run == nil {
		t.Errorf("a field added within the schema version is refused: %v", err)
	}
	for _, bad := range []string{``, `not json`, `{}`, `{"schema":"lars-loadgen/2"}`, `{"schema":"other"}`, `[1]`, `{"schema":"lars-loadgen/1","sent":"many"}`} {
		if _, _, err := DecodeReport([]byte(bad)); !errors.Is(err, ErrNotReport) {
			t.Errorf("DecodeReport(%q) = %v, want ErrNotReport", bad, err)
		}
	}
}

// FuzzDecodeReport feeds DecodeReport anything; what decodes must draw, compared and as
// its own page, without a panic or an endless loop. Seeds are small: minimising a large
// input is slow.
func FuzzDecodeReport(f *testing.F) {
	f.Add([]byte(`{"schema":"lars-loadgen/1","mode":"open","target_rate":1000,"sent":10,"received":9,"timeouts":1,"rate":9,"loss":0.1,` +
		`"latency_us":{"count":9,"p50":50,"p99":300,"p999":900},"by_type":{"get_host":{"sent":10,"received":9}},` +
		`"latency_histogram":[{"low_us":40,"high_us":50,"count":5},{"low_us":290,"high_us":300,"count":4}],` +
		`"seconds":[{"t_s":1,"span_s":1,"sent":10,"received":9,"rate":9,"p50_us":50,"p99_us":300,"p999_us":900}],` +
		`"slo":{"objective":"p99=1ms","met":true,"checks":[{"name":"p99","limit_us":1000,"value_us":300,"met":true}],"max_loss":0.001}}`))
	f.Add([]byte(`{"schema":"lars-loadgen-sweep/1","objective":"p99=1ms loss<=0.1%","step_duration_s":1,"capacity":1000,"found":true,"steps":[` +
		`{"target_rate":1000,"met":true,"report":{"schema":"lars-loadgen/1","sent":10,"received":10,"rate":10,"latency_us":{"p50":50,"p99":300,"p999":900},` +
		`"slo":{"checks":[{"name":"p99","limit_us":1000}],"max_loss":0.001}}},` +
		`{"target_rate":2000,"attempt":1,"report":{"schema":"lars-loadgen/1","sent":20,"received":10,"rate":10,"loss":0.5,"latency_us":{"p50":500,"p99":3000,"p999":9000}}},` +
		`{"target_rate":3000,"report":null}]}`))
	f.Add([]byte(`{"schema":"lars-loadgen/1","latency_histogram":[{"low_us":1,"high_us":2,"count":0}]}`))
	f.Add([]byte(`{"schema":""}`))
	f.Add([]byte(`{"sChemA":"lars-loadgen-sweep/1","steps":[{"report":{"slo":{"CheCks":[{}]}}}]}`)) // a zero objective on a log axis
	f.Fuzz(func(t *testing.T, data []byte) {
		run, sweep, err := DecodeReport(data)
		if err != nil {
			if run != nil || sweep != nil || !errors.Is(err, ErrNotReport) {
				t.Fatalf("error %v with run %v sweep %v", err, run, sweep)
			}
			return
		}
		if (run == nil) == (sweep == nil) {
			t.Fatalf("want exactly one report, got run %v sweep %v", run, sweep)
		}
		var b strings.Builder
		if run != nil {
			if err := CompareRuns("a", run, "b", run, 10).WriteHTML(&b); err != nil {
				t.Fatal(err)
			}
			if err := run.WriteHTML(&b); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err := CompareSweeps("a", sweep, "b", sweep, 10).WriteHTML(&b); err != nil {
			t.Fatal(err)
		}
		if err := sweep.WriteHTML(&b); err != nil {
			t.Fatal(err)
		}
	})
}
