package report

import (
	"image/color"
	"math"
	"strconv"
	"strings"
)

// The charts of the HTML pages are computed as plain data (this file and chart_*.go)
// and drawn apart (chart_render.go), so that tests can check what a chart shows: which
// points, in which colour, on which axis range.

// chartFigure is one chart of a page: one or more panels stacked on a shared x axis, the
// legend beside them (never over the data).
type chartFigure struct {
	// id is the id of the page's <figure> element.
	id      string
	title   string
	caption string
	panels  []chartPanel
	legend  []legendItem
	// panelHeight is the height of each panel in points; 0 means defaultPanelHeight.
	panelHeight float64
}

// chartPanel is one plot: its axes and what is drawn on them, in order: curves, then
// points, then reference lines.
type chartPanel struct {
	// name marks the panel's SVG group (data-panel).
	name   string
	x, y   chartAxis
	curves []chartCurve
	points []chartPoint
	refs   []chartRef
}

// chartAxis is an axis range, its scale and its ticks.
type chartAxis struct {
	label    string
	min, max float64
	log      bool
	ticks    []chartTick
}

// chartTick is a tick mark; an empty label makes a minor tick.
type chartTick struct {
	value float64
	label string
}

// lineDash is the dash pattern of a line.
type lineDash int

const (
	dashSolid lineDash = iota
	dashDashed
	dashDotted
)

// glyphShape is the shape of a point.
type glyphShape int

const (
	glyphCircle glyphShape = iota
	glyphRing
	glyphTriangle
	glyphSquare
)

// xy is a data point.
type xy struct{ x, y float64 }

// chartCurve is a series joined by a line.
type chartCurve struct {
	// series names it in the SVG (data-series).
	series string
	color  color.Color
	dash   lineDash
	width  float64 // points
	xys    []xy
}

// chartPoint is one marker, such as one step of a sweep.
type chartPoint struct {
	x, y float64
	// series and verdict mark it in the SVG: data-series, and class "point VERDICT".
	series  string
	verdict string
	color   color.Color
	shape   glyphShape
	radius  float64 // points
	// dx shifts the drawn point right, in points, to set a retry apart from the run
	// before it at the same rate (x stays the exact value).
	dx float64
	// title is the tooltip.
	title string
}

// chartRef is a reference line across the panel, such as the objective or the capacity.
type chartRef struct {
	// kind is its class in the SVG: objective, capacity, loss-bound, target-rate, target.
	kind     string
	vertical bool
	value    float64
	label    string
	color    color.Color
	dash     lineDash
	// row is where the label tries first: 0 at the top (vertical) or left end
	// (horizontal), 1 one line lower or one label further right. Labels also move
	// off the points and each other by themselves.
	row int
}

// legendItem is one entry of the legend: a line, a glyph, or both.
type legendItem struct {
	label string
	color color.Color
	line  bool
	dash  lineDash
	glyph bool
	shape glyphShape
}

// Verdict classes of a sweep step.
const (
	verdictMet     = "met"
	verdictMissed  = "missed"
	verdictLimited = "limited"
)

// verdictColor is the colour of a verdict.
func verdictColor(v string) color.Color {
	switch v {
	case verdictMet:
		return colorMet
	case verdictMissed:
		return colorMissed
	}
	return colorLimited
}

// logAxis is a logarithmic axis whose bounds are on the 1-2-5 sequence, with some
// room around lo and hi (both positive; lo <= 0 takes hi/10). Ticks are every 1, 2 and
// 5 of a decade, labelled while there are few, else only the powers of ten.
func logAxis(label string, lo, hi float64, format func(float64) string) chartAxis {
	if !(hi > 0) {
		hi = 1
	}
	hi = min(hi, axisLimit)
	if !(lo > 0) || lo > hi {
		lo = hi / 10
	}
	lo = max(lo, 1/axisLimit)
	a := chartAxis{label: label, log: true, min: floor125(lo / 1.1), max: ceil125(hi * 1.1)}
	var all []float64
	for k := int(math.Floor(math.Log10(a.min))); k <= int(math.Ceil(math.Log10(a.max))); k++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, float64(k))
			if v >= a.min*(1-1e-9) && v <= a.max*(1+1e-9) {
				all = append(all, v)
			}
		}
	}
	few := len(all) <= 10
	for _, v := range all {
		t := chartTick{value: v}
		if m := v / math.Pow(10, math.Floor(math.Log10(v)+1e-9)); few || math.Abs(m-1) < 1e-6 {
			t.label = format(v)
		}
		a.ticks = append(a.ticks, t)
	}
	return a
}

// linearAxis is a linear axis from lo to a little above hi, with 4 to 10 ticks on round
// values. Rates and counts start at lo = 0.
func linearAxis(label string, lo, hi float64, format func(float64) string) chartAxis {
	hi = min(hi, axisLimit)
	if !(hi-lo >= 1/axisLimit) {
		hi = lo + 1
	}
	step := ceil125((hi - lo) / 6)
	a := chartAxis{label: label, min: lo, max: hi + (hi-lo)*0.05}
	first := math.Ceil(lo/step) * step
	for i := 0.0; first+i*step <= a.max*(1+1e-9) && i <= 10; i++ {
		v := first + i*step
		a.ticks = append(a.ticks, chartTick{value: v, label: format(v)})
	}
	return a
}

// axisLimit bounds the axes (and 1/axisLimit their resolution): no latency, rate or
// ratio of a report comes near, but a damaged file must not draw forever.
const axisLimit = 1e12

// floor125 is the largest value of the 1-2-5 sequence (1, 2, 5, 10, 20 ...) <= v > 0.
func floor125(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{5, 2, 1} {
		if m*d <= v*(1+1e-9) {
			return m * d
		}
	}
	return d
}

// ceil125 is the smallest value of the 1-2-5 sequence >= v > 0.
func ceil125(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*d >= v*(1-1e-9) {
			return m * d
		}
	}
	return 10 * d
}

// fmtLatency formats microseconds for an axis or a label: 20 µs, 1.5 ms, 2 s.
func fmtLatency(us float64) string {
	switch {
	case us >= 1e6:
		return fmtNum(us/1e6) + " s"
	case us >= 1000:
		return fmtNum(us/1000) + " ms"
	}
	return fmtNum(us) + " µs"
}

// fmtRate formats a rate per second: 500, 12k, 1.5M.
func fmtRate(v float64) string {
	switch {
	case math.Abs(v) >= 1e6:
		return fmtNum(v/1e6) + "M"
	case math.Abs(v) >= 1000:
		return fmtNum(v/1000) + "k"
	}
	return fmtNum(v)
}

// fmtPercent formats a ratio as a percentage: 0.001 is 0.1%.
func fmtPercent(ratio float64) string {
	return fmtNum(ratio*100) + "%"
}

// fmtNum formats v with 3 significant digits (all the integer digits of larger values),
// no exponent and no trailing zeros: 1, 2.5, 0.005, 120, 12345.
func fmtNum(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	decimals := max(0, 2-int(math.Floor(math.Log10(math.Abs(v)))))
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
