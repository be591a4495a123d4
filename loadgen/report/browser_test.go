package report

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/larsgo/lars/internal/browsertest"
)

// envScreenshots names a folder to keep the browser test's screenshots in (default:
// the test's temporary folder); browsertest.EnvChromium may name the browser.
const envScreenshots = "LARS_LOADGEN_SCREENSHOTS"

// reportPage is one page of the browser test: how to write it, and how many elements
// each selector must find in it once drawn.
type reportPage struct {
	name  string
	write func(io.Writer) error
	count map[string]int
}

// TestBrowserReports opens each kind of page (run, sweep, comparison of runs and of
// sweeps) from a file in chromium and checks that the charts are drawn, full width,
// with their marked elements (objective, capacity, overlaid curves) where they belong,
// the legend beside the data, nothing fetched, no page error. Screenshots go to
// $LARS_LOADGEN_SCREENSHOTS or the test's temporary folder.
func TestBrowserReports(t *testing.T) {
	chromium := browsertest.Chromium(t)
	dir := t.TempDir()
	shots := os.Getenv(envScreenshots)
	if shots == "" {
		shots = dir
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)

	run := fixtureRun(30000, 10, fixtureLatency{20, 60, 400, 900, 3000}, 0.0001, &fixtureSLO)
	slower := fixtureRun(30000, 10, fixtureLatency{22, 70, 520, 1300, 5000}, 0.0003, &fixtureSLO)
	sweep, sweepB := fixtureSweep(), fixtureSweepB()
	pages := []reportPage{
		{"run", func(w io.Writer) error { return run.WriteHTML(w) }, map[string]int{
			"svg.chart": 3,
			`#run-percentiles g.curve[data-series="latency"]`: 1,
			"#run-percentiles g.point":                        3,
			"#run-rates g.ref.target-rate":                    1,
			"#run-rates g.curve":                              2,
			"#run-latency g.curve":                            3,
			"#run-latency g.ref.objective":                    1,
			"#by-type tr[data-type]":                          4,
		}},
		{"sweep", func(w io.Writer) error { return sweep.WriteHTML(w) }, map[string]int{
			"svg.chart":                       2,
			"#sweep-latency g.point.met":      15,
			"#sweep-latency g.point.missed":   15,
			"#sweep-latency g.ref.objective":  1,
			"#sweep-latency g.ref.capacity":   1,
			"#sweep-latency g.curve":          3,
			"#sweep-loss g.panel":             2,
			"#sweep-loss g.ref.loss-bound":    1,
			"#sweep-loss g.point":             20,
			"#steps tbody tr":                 10,
			"#steps tbody tr.missed":          5,
			"#verdict.met":                    1,
			"#sweep-latency g.legend g.point": 0,
		}},
		{"compare-runs", func(w io.Writer) error { return CompareRuns("a.json", run, "b.json", slower, 10).WriteHTML(w) }, map[string]int{
			"svg.chart": 1,
			`#compare-percentiles g.curve[data-series="A"]`: 1,
			`#compare-percentiles g.curve[data-series="B"]`: 1,
			"#compare-percentiles g.ref.objective":          1,
			"#figures tbody tr":                             11,
			"#figures td.worse":                             1,
			"#verdict.missed":                               1,
		}},
		{"compare-sweeps", func(w io.Writer) error {
			return CompareSweeps("a.json", sweep, "b.json", sweepB, 10).WriteHTML(w)
		}, map[string]int{
			"svg.chart": 1,
			`#compare-steps g.curve[data-series="A p99"]`: 1,
			`#compare-steps g.curve[data-series="B p99"]`: 1,
			"#compare-steps g.curve":                      4,
			"#compare-steps g.ref.capacity":               2,
			"#compare-steps g.ref.objective":              1,
			"#compare-steps g.point":                      40,
			"#figures td.worse":                           1,
		}},
	}

	ctx, pageErrors := browsertest.Start(t, chromium, browsertest.Options{Width: 1200, Height: 900, HideScrollbars: true})
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(expr string) float64 {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[float64](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	for _, pg := range pages {
		file := filepath.Join(dir, pg.name+".html")
		f, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := pg.write(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		do("open "+pg.name, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS("svg.chart")))
		for sel, want := range pg.count {
			if got := eval(fmt.Sprintf("document.querySelectorAll(%q).length", sel)); int(got) != want {
				t.Errorf("%s: %d of %s, want %d", pg.name, int(got), sel, want)
			}
		}
		// Every chart drawn full width (the page is 1200 pixels wide) and legible.
		if w := eval(`Math.min(...Array.from(document.querySelectorAll("svg.chart"), s => s.getBoundingClientRect().width))`); w < 1000 {
			t.Errorf("%s: a chart is %v pixels wide, want the page's width", pg.name, w)
		}
		if px := eval(`Math.min(...Array.from(document.querySelectorAll("svg.chart text"), e => e.getBoundingClientRect().height))`); px < 13 {
			t.Errorf("%s: chart text %v pixels high, want 13 or more", pg.name, px)
		}
		// The legend beside the data: right of every point and curve of its chart.
		if overlap := eval(`Array.from(document.querySelectorAll("svg.chart")).filter(s => {
				const l = s.querySelector("g.legend"); if (!l) return false;
				const left = l.getBoundingClientRect().left;
				return Array.from(s.querySelectorAll("g.point, g.curve")).some(e => e.getBoundingClientRect().right > left);
			}).length`); overlap != 0 {
			t.Errorf("%s: %v charts with a legend over the data", pg.name, overlap)
		}
		// Nothing fetched: the page is self-contained.
		if n := eval(`performance.getEntriesByType("resource").length`); n != 0 {
			t.Errorf("%s: %v resources fetched", pg.name, n)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot of %s: %v", pg.name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, pg.name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		if pg.name == "sweep" {
			checkSweepGeometry(t, eval)
		}
	}
	if p := pageErrors(); len(p) > 0 {
		t.Errorf("errors in the browser console:\n%s", strings.Join(p, "\n"))
	}
}

// checkSweepGeometry checks where the sweep's marks were drawn: the capacity line
// through the points of its rate and across the chart, the objective line across it at
// the height of 1 ms, points that met under it and the p99 points that missed above.
func checkSweepGeometry(t *testing.T, eval func(string) float64) {
	t.Helper()
	const box = `(sel) => document.querySelector(sel).getBoundingClientRect()`
	capX := eval(`(` + box + `)("#sweep-latency g.ref.capacity path").left`)
	pointX := eval(`(() => { const r = (` + box + `)('#sweep-latency g.point[data-series="p99"][data-x="35000"]'); return (r.left + r.right) / 2 })()`)
	if d := capX - pointX; d < -2 || d > 2 {
		t.Errorf("capacity line at x=%v, its step's point at %v", capX, pointX)
	}
	if h := eval(`(` + box + `)("#sweep-latency g.ref.capacity path").height`); h < 200 {
		t.Errorf("capacity line %v pixels high, want across the chart", h)
	}
	objY := eval(`(` + box + `)("#sweep-latency g.ref.objective path").top`)
	if w := eval(`(` + box + `)("#sweep-latency g.ref.objective path").width`); w < 700 {
		t.Errorf("objective line %v pixels wide, want across the chart", w)
	}
	// Screen y grows downwards: under the objective means a larger y.
	above := eval(`Array.from(document.querySelectorAll('#sweep-latency g.point.met[data-series="p99"]')).filter(e => e.getBoundingClientRect().bottom < ` + fmt.Sprint(objY) + `).length`)
	below := eval(`Array.from(document.querySelectorAll('#sweep-latency g.point.missed[data-series="p99"]')).filter(e => e.getBoundingClientRect().top > ` + fmt.Sprint(objY) + `).length`)
	if above != 0 || below != 0 {
		t.Errorf("%v met p99 points drawn above the objective, %v missed ones below it", above, below)
	}
}
