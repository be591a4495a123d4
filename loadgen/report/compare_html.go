package report

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
)

// WriteHTML writes a self-contained page for a comparison: the verdict, the table
// of figures with their change, and the two sides' curves overlaid: latency by
// percentile for runs, latency per step with both capacities for sweeps.
func (c *Comparison) WriteHTML(w io.Writer) error {
	var p page
	title := "Lars load test comparison"
	if c.Kind == KindSweep {
		title = "Lars capacity search comparison"
	}
	p.start(title)
	class := "met"
	if len(c.Regressions()) > 0 {
		class = "missed"
	}
	p.verdict(class, "%s", c.Verdict())
	a, b, notes := c.Sides()
	p.printf(`<p class="facts"><span class="swatch" style="background:%s"></span><strong>A</strong> %s: %s<br>`+"\n", cssColor(colorA), c.NameA, a)
	p.printf(`<span class="swatch" style="background:%s"></span><strong>B</strong> %s: %s</p>`+"\n", cssColor(colorB), c.NameB, b)
	for _, n := range notes {
		p.printf(`<p class="facts">Note: %s.</p>`+"\n", n)
	}
	p.figuresTable(c)
	for _, f := range compareFigures(c) {
		if err := p.figure(&f); err != nil {
			return err
		}
	}
	var text bytes.Buffer
	if err := c.WriteText(&text); err != nil {
		return err
	}
	p.details("The text comparison", text.String())
	return p.finish(w)
}

// figuresTable lists each figure of A and B with the change; the change is green where
// B is better, red and bold where a judged figure got worse beyond the threshold.
func (p *page) figuresTable(c *Comparison) {
	p.raw("<table id=\"figures\"><thead><tr><th>figure</th><th>A</th><th>B</th><th>change</th></tr></thead><tbody>\n")
	for _, f := range c.Figures {
		class := ""
		switch {
		case f.Worse:
			class = "worse"
		case f.Better() > 0:
			class = "better"
		}
		name := f.Name
		if f.Gate {
			name += fmt.Sprintf(" (judged, threshold %g%%)", c.Threshold)
		}
		p.printf(`<tr><td>%s</td><td>%s</td><td>%s</td><td class="%s">%s</td></tr>`+"\n", name, f.Format(f.A), f.Format(f.B), class, f.FormatChange())
	}
	p.raw("</tbody></table>\n")
}

// compareFigures are the overlaid charts of a comparison.
func compareFigures(c *Comparison) []chartFigure {
	if c.Kind == KindSweep {
		return []chartFigure{compareSweepFigure(c)}
	}
	slo := c.RunA.SLO
	if slo == nil {
		slo = c.RunB.SLO
	}
	return []chartFigure{percentileFigure("compare-percentiles", "Latency by percentile, A and B",
		"Both runs' latency by percentile, overlaid: where B's curve runs above A's, B answered slower at that percentile. Each step right is ten times rarer.",
		[]percentileSide{{name: "A", color: colorA, report: c.RunA}, {name: "B", color: colorB, report: c.RunB}}, slo)}
}

// compareSweepFigure overlays the two searches' step latencies: p99 (solid) and p50
// (dotted) against the target rate on a log axis, filled points where the step met the
// objective and hollow where it missed, with the objective and both capacities.
func compareSweepFigure(c *Comparison) chartFigure {
	f := chartFigure{id: "compare-steps", title: "Latency per step, A and B",
		caption: "Each search's p99 (solid) and p50 (dotted) per step against the target rate; filled points met the objective, hollow ones missed it. The vertical lines are the capacities found."}
	p := chartPanel{name: "latency"}
	lo, hi := math.Inf(1), 0.0
	sides := []struct {
		name  string
		color color.Color
		s     *SweepReport
		row   int
	}{{"A", colorA, c.SweepA, 0}, {"B", colorB, c.SweepB, 1}}
	for _, side := range sides {
		for _, sp := range stepPercentiles[:2] { // p50, p99
			var line []xy
			for _, st := range decidingSteps(side.s) {
				if v := sp.of(&st.Report.LatencyUS); v > 0 {
					line = append(line, xy{st.TargetRate, v})
				}
			}
			series := side.name + " " + sp.name
			p.curves = append(p.curves, chartCurve{series: series, color: side.color, dash: sp.dash, width: 1.6, xys: line})
			for _, st := range side.s.Steps {
				if st.Report == nil {
					continue
				}
				v := sp.of(&st.Report.LatencyUS)
				if v <= 0 {
					continue
				}
				shape := glyphCircle
				if !st.Met {
					shape = glyphRing
				}
				p.points = append(p.points, chartPoint{x: st.TargetRate, y: v, series: series, verdict: stepVerdict(st), color: side.color,
					shape: shape, radius: sp.radius - 0.5, dx: retryShift(st), title: side.name + " " + stepTitle(st, sp.name+" "+fmtLatency(v))})
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			f.legend = append(f.legend, legendItem{label: series, color: side.color, line: true, dash: sp.dash, glyph: true})
		}
	}
	f.legend = append(f.legend,
		legendItem{label: "met", color: colorCurve, glyph: true, shape: glyphCircle},
		legendItem{label: "missed", color: colorCurve, glyph: true, shape: glyphRing})
	slo := sweepSLO(c.SweepA)
	if slo == nil {
		slo = sweepSLO(c.SweepB)
	}
	p.refs = objectiveRefs(slo)
	for _, r := range p.refs {
		lo, hi = math.Min(lo, r.value), math.Max(hi, r.value)
	}
	if len(p.refs) > 0 {
		f.legend = append(f.legend, objectiveLegend())
	}
	maxRate := 0.0
	for _, side := range sides {
		for _, st := range side.s.Steps {
			maxRate = math.Max(maxRate, st.TargetRate)
		}
		if side.s.Found {
			p.refs = append(p.refs, chartRef{kind: "capacity", vertical: true, value: side.s.Capacity, color: side.color, row: side.row,
				label: fmt.Sprintf("%s capacity %.0f/s", side.name, side.s.Capacity)})
			f.legend = append(f.legend, legendItem{label: side.name + " capacity", color: side.color, line: true})
		}
	}
	p.x = linearAxis("target rate (requests/s)", 0, math.Max(maxRate, math.Max(c.SweepA.Capacity, c.SweepB.Capacity)), fmtRate)
	p.y = logAxis("latency", lo, hi, fmtLatency)
	f.panels = []chartPanel{p}
	return f
}
