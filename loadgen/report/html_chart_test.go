package report

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// on125 tells whether v is on the 1-2-5 sequence.
func on125(v float64) bool {
	m := v / math.Pow(10, math.Floor(math.Log10(v)+1e-9))
	return math.Abs(m-1) < 1e-6 || math.Abs(m-2) < 1e-6 || math.Abs(m-5) < 1e-6
}

func TestChartLogAxisBounds(t *testing.T) {
	for _, c := range []struct{ lo, hi, min, max float64 }{
		{23, 870, 20, 1000},
		{100, 100, 50, 200},
		{0, 500, 20, 1000}, // no positive low: a decade under the high
		{0.4, 2e6, 0.2, 5e6},
		{1000, 10, 0.5, 20}, // lo above hi: taken as hi/10
	} {
		a := logAxis("latency", c.lo, c.hi, fmtLatency)
		if !a.log || a.min != c.min || a.max != c.max {
			t.Errorf("logAxis(%v, %v) = %v..%v log=%v, want %v..%v", c.lo, c.hi, a.min, a.max, a.log, c.min, c.max)
		}
		labelled := 0
		for _, tk := range a.ticks {
			if tk.value < a.min || tk.value > a.max || !on125(tk.value) {
				t.Errorf("logAxis(%v, %v): tick %v outside %v..%v or off the 1-2-5 sequence", c.lo, c.hi, tk.value, a.min, a.max)
			}
			if tk.label != "" {
				labelled++
			}
		}
		if labelled < 2 || labelled > 10 {
			t.Errorf("logAxis(%v, %v): %d labelled ticks, want 2 to 10 to read it", c.lo, c.hi, labelled)
		}
	}
	// Many decades: only the powers of ten keep a label.
	a := logAxis("latency", 1, 1e6, fmtLatency)
	for _, tk := range a.ticks {
		if power := math.Abs(math.Log10(tk.value)-math.Round(math.Log10(tk.value))) < 1e-9; power != (tk.label != "") {
			t.Errorf("tick %v labelled %q", tk.value, tk.label)
		}
	}
}

func TestChartLinearAxisFromZero(t *testing.T) {
	a := linearAxis("per second", 0, 28500, fmtRate)
	if a.log || a.min != 0 || a.max < 28500 || a.max > 28500*1.1 {
		t.Fatalf("axis %v..%v log=%v, want from 0 to a little above 28500", a.min, a.max, a.log)
	}
	if a.ticks[0].value != 0 || a.ticks[0].label != "0" || len(a.ticks) < 4 || len(a.ticks) > 10 {
		t.Errorf("ticks %v", a.ticks)
	}
	step := a.ticks[1].value - a.ticks[0].value
	for i, tk := range a.ticks {
		if math.Abs(tk.value-float64(i)*step) > 1e-9 || !on125(step) {
			t.Errorf("tick %d at %v: want multiples of a 1-2-5 step, got step %v", i, tk.value, step)
		}
	}
	if got := []string{a.ticks[1].label, a.ticks[2].label}; !slices.Equal(got, []string{"5k", "10k"}) {
		t.Errorf("labels %v, want 5k, 10k", got)
	}
}

func TestChartFormats(t *testing.T) {
	for in, want := range map[float64]string{20: "20 µs", 1500: "1.5 ms", 2e6: "2 s", 0.5: "0.5 µs", 123.456: "123 µs"} {
		if got := fmtLatency(in); got != want {
			t.Errorf("fmtLatency(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{30000: "30k", 28500: "28.5k", 500: "500", 1.5e6: "1.5M", 0: "0"} {
		if got := fmtRate(in); got != want {
			t.Errorf("fmtRate(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{0.001: "0.1%", 1: "100%", 0.00002: "0.002%", 0.3: "30%"} {
		if got := fmtPercent(in); got != want {
			t.Errorf("fmtPercent(%v) = %q, want %q", in, got, want)
		}
	}
	if got := fmtNum(12345); got != "12345" {
		t.Errorf("fmtNum(12345) = %q", got)
	}
}

// TestChartSweepLatency checks the sweep's latency chart: one point per step and
// percentile (retries included, set apart), coloured by verdict, at its target rate; the
// lines join the deciding steps by rate; the objective and capacity are drawn; the
// latency axis is logarithmic and holds everything.
func TestChartSweepLatency(t *testing.T) {
	s := fixtureSweep()
	f := sweepLatencyFigure(s)
	if len(f.panels) != 1 {
		t.Fatalf("%d panels", len(f.panels))
	}
	p := f.panels[0]
	if len(p.points) != 3*len(s.Steps) {
		t.Fatalf("%d points for %d steps, want 3 a step (p50, p99, p99.9)", len(p.points), len(s.Steps))
	}
	met := 0
	for i, pt := range p.points {
		st := s.Steps[i%len(s.Steps)]
		want := stepPercentiles[i/len(s.Steps)]
		if pt.series != want.name || pt.x != st.TargetRate || pt.y != want.of(&st.Report.LatencyUS) {
			t.Errorf("point %d: %s (%v, %v), want %s of step at %v: %v", i, pt.series, pt.x, pt.y, want.name, st.TargetRate, want.of(&st.Report.LatencyUS))
		}
		if pt.verdict != stepVerdict(st) || pt.color != verdictColor(pt.verdict) {
			t.Errorf("point %d (%v/s attempt %d, met %v): verdict %q colour %v", i, st.TargetRate, st.Attempt, st.Met, pt.verdict, pt.color)
		}
		if (st.Attempt > 0) != (pt.dx > 0) {
			t.Errorf("point %d: attempt %d drawn shifted by %v", i, st.Attempt, pt.dx)
		}
		if pt.verdict == verdictMet {
			met++
			if pt.color != colorMet {
				t.Errorf("met point in %v", pt.color)
			}
		} else if pt.color != colorMissed {
			t.Errorf("missed point in %v", pt.color)
		}
		if pt.y < p.y.min || pt.y > p.y.max {
			t.Errorf("point %v outside the latency axis %v..%v", pt.y, p.y.min, p.y.max)
		}
	}
	if met != 3*5 {
		t.Errorf("%d met points, want 15 (5 steps met)", met)
	}
	rates := []float64{5000, 10000, 20000, 30000, 35000, 37500, 40000}
	for _, c := range p.curves {
		var xs []float64
		for _, v := range c.xys {
			xs = append(xs, v.x)
		}
		if !slices.Equal(xs, rates) {
			t.Errorf("curve %s joins %v, want each rate once, sorted: %v", c.series, xs, rates)
		}
	}
	if p99 := p.curves[1]; p99.series != "p99" || p99.xys[4].y != s.Steps[7].Report.LatencyUS.P99 {
		t.Errorf("the p99 curve at 35000/s is %v, want the retry's %v (its verdict counted)", p99.xys[4].y, s.Steps[7].Report.LatencyUS.P99)
	}
	var kinds []string
	for _, r := range p.refs {
		kinds = append(kinds, r.kind)
		switch r.kind {
		case "objective":
			if r.vertical || r.value != 1000 || !strings.Contains(r.label, "p99") {
				t.Errorf("objective %+v, want a horizontal line at 1000 µs", r)
			}
		case "capacity":
			if !r.vertical || r.value != 35000 || !strings.Contains(r.label, "35000") {
				t.Errorf("capacity %+v, want a vertical line at 35000", r)
			}
		}
	}
	if !slices.Equal(kinds, []string{"objective", "capacity"}) {
		t.Errorf("reference lines %v", kinds)
	}
	if !p.y.log || p.y.min <= 0 || p.y.max < 1000 || !on125(p.y.min) || !on125(p.y.max) {
		t.Errorf("latency axis %v..%v log=%v, want a log axis on 1-2-5 bounds holding the objective", p.y.min, p.y.max, p.y.log)
	}
	if p.x.min != 0 || p.x.max < 40000 || p.x.log {
		t.Errorf("rate axis %v..%v, want linear from 0 past 40000", p.x.min, p.x.max)
	}
}

// TestChartSweepLoss checks the second sweep chart: achieved share from zero, loss on a
// log axis whose bottom stands for zero, the loss bound, a loadgen-limited step in grey.
func TestChartSweepLoss(t *testing.T) {
	s := buildSweep([]fixtureStep{
		{1000, 0, 100, 0, false},
		{2000, 0, 120, 0.0005, false},
		{4000, 0, 3000, 0.25, false},
		{8000, 0, 200, 0, true},
	})
	f := sweepLossFigure(s)
	if len(f.panels) != 2 || f.panels[0].name != "ratio" || f.panels[1].name != "loss" {
		t.Fatalf("panels %+v", f.panels)
	}
	ratio, loss := f.panels[0], f.panels[1]
	if ratio.y.min != 0 || ratio.y.max < 1 || ratio.y.log {
		t.Errorf("ratio axis %v..%v, want linear from 0 past 100%%", ratio.y.min, ratio.y.max)
	}
	for i, pt := range ratio.points {
		if want := s.Steps[i].Report.Rate / answeredTarget(s.Steps[i].Report); math.Abs(pt.y-want) > 1e-12 || pt.y < 0.7 || pt.y > 1.01 {
			t.Errorf("ratio of step %d = %v, want %v (answers against the target less reports)", i, pt.y, want)
		}
	}
	zero := loss.y.ticks[0]
	if !loss.y.log || zero.label != "0" || zero.value >= 0.0005/2 || zero.value < loss.y.min || loss.y.max < 0.25 {
		t.Errorf("loss axis %v..%v log=%v, first tick %+v: want a log axis from a zero tick under 0.025%% past 25%%", loss.y.min, loss.y.max, loss.y.log, zero)
	}
	if len(loss.y.ticks) > 1 && loss.y.ticks[1].value < 3*zero.value {
		t.Errorf("tick %v too close to the zero tick %v", loss.y.ticks[1].value, zero.value)
	}
	wantLoss := []float64{zero.value, s.Steps[1].Report.Loss, s.Steps[2].Report.Loss, zero.value}
	wantVerdict := []string{verdictMet, verdictMet, verdictMissed, verdictLimited}
	for i, pt := range loss.points {
		if pt.y != wantLoss[i] || pt.verdict != wantVerdict[i] || pt.color != verdictColor(wantVerdict[i]) {
			t.Errorf("loss point %d: %v %s %v, want %v %s", i, pt.y, pt.verdict, pt.color, wantLoss[i], wantVerdict[i])
		}
	}
	if loss.points[3].color != colorLimited {
		t.Errorf("a loadgen-limited step is not grey")
	}
	var bound *chartRef
	for i := range loss.refs {
		if loss.refs[i].kind == "loss-bound" {
			bound = &loss.refs[i]
		}
	}
	if bound == nil || bound.value != 0.001 || bound.vertical || bound.label != "max loss 0.1%" {
		t.Errorf("loss bound %+v, want a horizontal line at 0.1%%", bound)
	}
	if !slices.ContainsFunc(f.legend, func(l legendItem) bool { return l.label == "loadgen limited" }) {
		t.Errorf("legend %v lacks the grey of loadgen-limited steps", f.legend)
	}
}

func TestChartLossAxisWithoutLoss(t *testing.T) {
	a, zero := lossAxis([]float64{0, 0}, 0)
	if a.log || a.min != 0 || zero != 0 || a.max < 0.01 {
		t.Errorf("no loss and no bound: axis %v..%v log=%v zero at %v, want linear from 0", a.min, a.max, a.log, zero)
	}
}

// TestSweepStepWithoutAnswers: a step that got no answer has no latency to draw on a
// log axis, but its loss is.
func TestChartSweepStepWithoutAnswers(t *testing.T) {
	s := fixtureSweep()
	dead := *s.Steps[3].Report
	dead.Received, dead.Rate, dead.Loss, dead.LatencyUS = 0, 0, 1, Latency{}
	s.Steps[3].Report = &dead
	lat := sweepLatencyFigure(s).panels[0]
	if len(lat.points) != 3*(len(s.Steps)-1) {
		t.Errorf("%d latency points, want 3 for each step but the dead one", len(lat.points))
	}
	loss := sweepLossFigure(s).panels[1]
	if loss.points[3].y != 1 || loss.y.max < 1 {
		t.Errorf("the dead step's loss is drawn at %v on an axis to %v, want 100%%", loss.points[3].y, loss.y.max)
	}
}

// TestChartRun checks the run report's charts: rates from zero with the target drawn,
// latency per second on a log axis, the percentile curve rising.
func TestChartRun(t *testing.T) {
	r := fixtureRun(30000, 10, fixtureLatency{20, 60, 400, 900, 3000}, 0.0001, &fixtureSLO)
	figs := runFigures(r)
	ids := []string{}
	for _, f := range figs {
		ids = append(ids, f.id)
	}
	if !slices.Equal(ids, []string{"run-percentiles", "run-rates", "run-latency"}) {
		t.Fatalf("figures %v", ids)
	}
	rates := figs[1].panels[0]
	if rates.y.min != 0 || rates.x.min != 0 || rates.y.log {
		t.Errorf("rate axes from %v (x) and %v (y), want both from 0", rates.x.min, rates.y.min)
	}
	wantTarget := 30000 * float64(r.Sent) / float64(r.Sent+r.ReportsSent)
	if len(rates.refs) != 1 || rates.refs[0].kind != "target-rate" || math.Abs(rates.refs[0].value-wantTarget) > 1e-6 || rates.y.max < wantTarget {
		t.Errorf("target %+v on an axis to %v, want a line at %v (the target less reports)", rates.refs, rates.y.max, wantTarget)
	}
	for _, c := range rates.curves {
		if len(c.xys) != len(r.Seconds) {
			t.Errorf("curve %s has %d points for %d seconds", c.series, len(c.xys), len(r.Seconds))
		}
	}
	lat := figs[2].panels[0]
	if !lat.y.log || len(lat.curves) != 3 || len(lat.refs) != 1 || lat.refs[0].value != 1000 {
		t.Errorf("latency per second: log=%v, %d curves, refs %+v", lat.y.log, len(lat.curves), lat.refs)
	}
	for _, c := range lat.curves {
		for _, v := range c.xys {
			if v.y < lat.y.min || v.y > lat.y.max {
				t.Errorf("%s %v outside %v..%v", c.series, v.y, lat.y.min, lat.y.max)
			}
		}
	}
	pc := figs[0].panels[0]
	curve := pc.curves[0].xys
	for i := 1; i < len(curve); i++ {
		if curve[i].x < curve[i-1].x-1e-9 || curve[i].y < curve[i-1].y {
			t.Fatalf("percentile curve falls at %d: %v then %v", i, curve[i-1], curve[i])
		}
	}
	if pc.y.min != 0 || pc.x.min != 0 || len(pc.points) != 3 || pc.points[1].x != 2 || pc.points[1].y != r.LatencyUS.P99 {
		t.Errorf("percentile chart: axes from %v, %v; marks %+v", pc.x.min, pc.y.min, pc.points)
	}

	closed := *r
	closed.Mode, closed.TargetRate, closed.Concurrency = "closed", 0, 64
	if refs := rateFigure(&closed).panels[0].refs; len(refs) != 0 {
		t.Errorf("closed loop with a target line %+v", refs)
	}
}

// TestChartRenderedMarks renders the sweep chart and checks the groups that name what is
// drawn, with the sentinels gone and the SVG scalable.
func TestChartRenderedMarks(t *testing.T) {
	f := sweepLatencyFigure(fixtureSweep())
	svg, err := renderFigure(&f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(svg, `<svg class="chart" role="img"`) || !strings.Contains(svg, "viewBox=") || strings.Contains(svg[:200], "width=") {
		t.Errorf("SVG head %q: want no fixed size, a viewBox", svg[:200])
	}
	if strings.Contains(svg, "-7777") {
		t.Errorf("a sentinel is left in the SVG")
	}
	if o, c := strings.Count(svg, "<g"), strings.Count(svg, "</g>"); o != c {
		t.Errorf("%d <g> but %d </g>", o, c)
	}
	for sel, want := range map[string]int{
		`class="point met"`:                15,
		`class="point missed"`:             15,
		`class="ref objective"`:            1,
		`class="ref capacity"`:             1,
		`class="curve"`:                    3,
		`class="legend"`:                   1,
		`data-series="p99" data-x="35000"`: 2,
	} {
		if got := strings.Count(svg, sel); got != want {
			t.Errorf("%d of %s, want %d", got, sel, want)
		}
	}
	if !strings.Contains(svg, "<title>35000/s (retry 1): p99 ") {
		t.Errorf("no tooltip for the retry at 35000/s")
	}
}

// TestHTMLPagesSelfContained checks the three pages: one document each, inline SVG only,
// nothing fetched from elsewhere, the expected figures and tables.
func TestHTMLPagesSelfContained(t *testing.T) {
	run := fixtureRun(30000, 5, fixtureLatency{20, 60, 400, 900, 3000}, 0.0001, &fixtureSLO)
	pages := map[string]func(*strings.Builder) error{
		"run":   func(b *strings.Builder) error { return run.WriteHTML(b) },
		"sweep": func(b *strings.Builder) error { return fixtureSweep().WriteHTML(b) },
		"compare": func(b *strings.Builder) error {
			return CompareSweeps("a.json", fixtureSweep(), "b.json", fixtureSweepB(), 10).WriteHTML(b)
		},
	}
	want := map[string][]string{
		"run":     {`id="run-percentiles"`, `id="run-rates"`, `id="run-latency"`, `<tr data-type="get_host">`, `<tr data-type="get_route">`, `<tr data-type="report">`, "Objective p99=1ms loss&lt;=0.1%: met."},
		"sweep":   {`id="sweep-latency"`, `id="sweep-loss"`, `<table id="steps">`, "<strong>35000 requests/s</strong>"},
		"compare": {`id="compare-steps"`, `<table id="figures">`, "B is worse than A beyond 10%: capacity -14.3% (35000 -&gt; 30000)."},
	}
	for name, write := range pages {
		var b strings.Builder
		if err := write(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		h := b.String()
		if !strings.HasPrefix(h, "<!DOCTYPE html>") || !strings.HasSuffix(h, "</html>\n") || strings.Count(h, "<html") != 1 {
			t.Errorf("%s: not one HTML document", name)
		}
		for _, bad := range []string{"<script", "<link", "src=", "href=", "@import", "url(", "<?xml"} {
			if strings.Contains(h, bad) {
				t.Errorf("%s page contains %q: it must read offline, self-contained", name, bad)
			}
		}
		for _, w := range want[name] {
			if !strings.Contains(h, w) {
				t.Errorf("%s page lacks %s", name, w)
			}
		}
	}
}
