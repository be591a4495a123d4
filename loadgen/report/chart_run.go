package report

import (
	"fmt"
	"image/color"
	"math"

	"github.com/larsgo/lars/loadgen/stats"
)

// runFigures are the charts of a run report: latency by percentile, requests and
// answers per second, latency per second.
func runFigures(r *Report) []chartFigure {
	return []chartFigure{
		percentileFigure("run-percentiles", "Latency by percentile",
			"The share of answers at or under each latency: read the p99 at 99%. The tail is stretched: each step right is ten times rarer.",
			[]percentileSide{{name: "latency", color: colorP50, report: r}}, r.SLO),
		rateFigure(r),
		latencyTimeFigure(r),
	}
}

// percentileSide is one report's curve on a percentile chart.
type percentileSide struct {
	name   string
	color  color.Color
	report *Report
}

// percentileMarks are the percentiles marked on the curves, with their x position
// (-log10(1-q)) and value.
var percentileMarks = []struct {
	name string
	x    float64
	of   func(*Latency) float64
}{
	{"p50", -math.Log10(0.5), func(l *Latency) float64 { return l.P50 }},
	{"p99", 2, func(l *Latency) float64 { return l.P99 }},
	{"p99.9", 3, func(l *Latency) float64 { return l.P999 }},
}

// percentileXY is the latency curve of r's histogram: the upper bound of each bucket at
// x = -log10(1 - q), q the share of answers up to it, so 90% is 1, 99% is 2, 99.9% is 3.
// The last bucket (q = 1) goes as far as the number of answers resolves: log10(n).
func percentileXY(r *Report) []xy {
	var n uint64
	for _, b := range r.Histogram {
		n += b.Count
	}
	var pts []xy
	var seen uint64
	for _, b := range r.Histogram {
		if n == 0 {
			break
		}
		seen += b.Count
		q := float64(seen) / float64(n)
		x := math.Log10(float64(n))
		if q < 1 {
			x = -math.Log10(1 - q)
		}
		pts = append(pts, xy{x, b.HighUS})
	}
	return pts
}

// percentileFigure draws the latency by percentile of one or more reports (a run, or
// the two sides of a comparison), with p50, p99 and p99.9 marked and the objective.
func percentileFigure(id, title, caption string, sides []percentileSide, slo *stats.Verdict) chartFigure {
	p := chartPanel{name: "percentiles"}
	maxX, maxY := 1.0, 0.0
	f := chartFigure{id: id, title: title, caption: caption}
	for _, s := range sides {
		pts := percentileXY(s.report)
		p.curves = append(p.curves, chartCurve{series: s.name, color: s.color, width: 2, xys: pts})
		for _, pt := range pts {
			maxX, maxY = math.Max(maxX, pt.x), math.Max(maxY, pt.y)
		}
		for _, m := range percentileMarks {
			if s.report.Received == 0 {
				break
			}
			v := m.of(&s.report.LatencyUS)
			p.points = append(p.points, chartPoint{x: m.x, y: v, series: s.name + " " + m.name, color: s.color, shape: glyphCircle, radius: 3.5,
				title: fmt.Sprintf("%s %s: %s", s.name, m.name, fmtLatency(v))})
		}
		f.legend = append(f.legend, legendItem{label: s.name, color: s.color, line: true, glyph: true})
	}
	refs := objectiveRefs(slo)
	for _, r := range refs {
		maxY = math.Max(maxY, r.value)
	}
	p.refs = refs
	p.x = chartAxis{label: "percentile", min: 0, max: math.Ceil(maxX)}
	for i, lbl := range []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%", "99.99999%"} {
		if float64(i) <= p.x.max {
			p.x.ticks = append(p.x.ticks, chartTick{value: float64(i), label: lbl})
		}
	}
	p.y = linearAxis("latency", 0, maxY, fmtLatency)
	if len(refs) > 0 {
		f.legend = append(f.legend, objectiveLegend())
	}
	f.panels = []chartPanel{p}
	return f
}

// objectiveRefs are the latency limits of an objective as horizontal lines.
func objectiveRefs(slo *stats.Verdict) []chartRef {
	if slo == nil {
		return nil
	}
	var refs []chartRef
	for i, c := range slo.Checks {
		if !(c.Limit > 0) {
			continue
		}
		refs = append(refs, chartRef{kind: "objective", value: c.Limit, label: fmt.Sprintf("objective %s ≤ %s", pctName(c.Name), fmtLatency(c.Limit)),
			color: colorRef, dash: dashDashed, row: i})
	}
	return refs
}

func objectiveLegend() legendItem {
	return legendItem{label: "objective", color: colorRef, line: true, dash: dashDashed}
}

// pctName spells a percentile's name for people: p999 is p99.9.
func pctName(name string) string {
	switch name {
	case "p999":
		return "p99.9"
	case "p9999":
		return "p99.99"
	}
	return name
}

// answeredTarget is the part of an open loop's target rate that expects answers:
// TargetRate counts reports, which get none.
func answeredTarget(r *Report) float64 {
	if all := r.Sent + r.ReportsSent; r.ReportsSent > 0 && all > 0 {
		return r.TargetRate * float64(r.Sent) / float64(all)
	}
	return r.TargetRate
}

// rateFigure draws requests sent and answers received per second on an axis from zero,
// with the open loop's target.
func rateFigure(r *Report) chartFigure {
	var recv, sent []xy
	maxT, hi := 1.0, 0.0
	for _, s := range r.Seconds {
		recv = append(recv, xy{s.T, s.Rate})
		hi, maxT = math.Max(hi, s.Rate), math.Max(maxT, s.T)
		if s.Span > 0 {
			v := float64(s.Sent) / s.Span
			sent = append(sent, xy{s.T, v})
			hi = math.Max(hi, v)
		}
	}
	p := chartPanel{name: "rates",
		curves: []chartCurve{
			{series: "sent", color: colorSent, dash: dashDashed, width: 1.5, xys: sent},
			{series: "received", color: colorP50, width: 2, xys: recv},
		}}
	f := chartFigure{id: "run-rates", title: "Requests and answers per second",
		caption: "get_host and get_route requests sent and answered each second (reports get no answer), on an axis from zero.",
		legend: []legendItem{
			{label: "answers", color: colorP50, line: true},
			{label: "sent", color: colorSent, line: true, dash: dashDashed},
		}}
	if r.Mode == "open" && r.TargetRate > 0 {
		t := answeredTarget(r)
		label := "target " + fmtRate(t) + "/s"
		if t != r.TargetRate {
			label = fmt.Sprintf("target %s/s (%s/s less reports)", fmtRate(t), fmtRate(r.TargetRate))
		}
		p.refs = append(p.refs, chartRef{kind: "target-rate", value: t, label: label, color: colorRef, dash: dashDashed})
		f.legend = append(f.legend, legendItem{label: "target", color: colorRef, line: true, dash: dashDashed})
		hi = math.Max(hi, t)
	}
	p.x = linearAxis("time (s)", 0, maxT, fmtNum)
	p.y = linearAxis("per second", 0, hi, fmtRate)
	f.panels = []chartPanel{p}
	return f
}

// latencyTimeFigure draws p50, p99 and p99.9 of each second on a log axis, with the
// objective. Seconds without answers leave no point.
func latencyTimeFigure(r *Report) chartFigure {
	series := []struct {
		name  string
		color color.Color
		of    func(Second) float64
	}{
		{"p50", colorP50, func(s Second) float64 { return s.P50US }},
		{"p99", colorP99, func(s Second) float64 { return s.P99US }},
		{"p99.9", colorP999, func(s Second) float64 { return s.P999US }},
	}
	p := chartPanel{name: "latency"}
	f := chartFigure{id: "run-latency", title: "Latency per second",
		caption: "p50, p99 and p99.9 of the answers of each second, on a log axis."}
	lo, hi, maxT := math.Inf(1), 0.0, 1.0
	for _, s := range series {
		var pts []xy
		for _, sec := range r.Seconds {
			if v := s.of(sec); v > 0 {
				pts = append(pts, xy{sec.T, v})
				lo, hi, maxT = math.Min(lo, v), math.Max(hi, v), math.Max(maxT, sec.T)
			}
		}
		p.curves = append(p.curves, chartCurve{series: s.name, color: s.color, width: 1.8, xys: pts})
		f.legend = append(f.legend, legendItem{label: s.name, color: s.color, line: true})
	}
	p.refs = objectiveRefs(r.SLO)
	for _, ref := range p.refs {
		lo, hi = math.Min(lo, ref.value), math.Max(hi, ref.value)
	}
	if len(p.refs) > 0 {
		f.legend = append(f.legend, objectiveLegend())
	}
	p.x = linearAxis("time (s)", 0, maxT, fmtNum)
	p.y = logAxis("latency", lo, hi, fmtLatency)
	f.panels = []chartPanel{p}
	return f
}
