package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/larsgo/lars/loadgen/stats"
)

// sweepFigures are the charts of a capacity search: latency per step against the
// objective, then the share of the target achieved and the loss per step.
func sweepFigures(s *SweepReport) []chartFigure {
	return []chartFigure{sweepLatencyFigure(s), sweepLossFigure(s)}
}

// stepPercentiles are the percentiles drawn per step: each its own glyph and line,
// so that the colour can tell the verdict.
var stepPercentiles = []struct {
	name   string
	shape  glyphShape
	radius float64
	dash   lineDash
	of     func(*Latency) float64
}{
	{"p50", glyphRing, 3.2, dashDotted, func(l *Latency) float64 { return l.P50 }},
	{"p99", glyphCircle, 4.2, dashSolid, func(l *Latency) float64 { return l.P99 }},
	{"p99.9", glyphTriangle, 4.2, dashDashed, func(l *Latency) float64 { return l.P999 }},
}

// stepVerdict is a step's verdict class: met, missed, or limited (the load generator
// could not send the rate).
func stepVerdict(st SweepStep) string {
	switch {
	case st.LoadgenLimited:
		return verdictLimited
	case st.Met:
		return verdictMet
	}
	return verdictMissed
}

// decidingSteps are the steps whose verdict counted, one per target rate (the last
// attempt: a retry replaces a missed run), sorted by rate.
func decidingSteps(s *SweepReport) []SweepStep {
	var out []SweepStep
	for _, st := range s.Steps {
		if st.Report == nil {
			continue
		}
		i := slices.IndexFunc(out, func(o SweepStep) bool { return o.TargetRate == st.TargetRate })
		if i >= 0 {
			out[i] = st
		} else {
			out = append(out, st)
		}
	}
	slices.SortStableFunc(out, func(a, b SweepStep) int { return cmp.Compare(a.TargetRate, b.TargetRate) })
	return out
}

// sweepSLO is the objective's verdict of the search's first judged step: its checks
// give the latency limits, its MaxLoss the loss bound. Nil when no step has one.
func sweepSLO(s *SweepReport) *stats.Verdict {
	for _, st := range s.Steps {
		if st.Report != nil && st.Report.SLO != nil {
			return st.Report.SLO
		}
	}
	return nil
}

// stepTitle is the tooltip of one step's point.
func stepTitle(st SweepStep, what string) string {
	attempt := ""
	if st.Attempt > 0 {
		attempt = fmt.Sprintf(" (retry %d)", st.Attempt)
	}
	verdict := stats.StepVerdict(st.Met, st.Reason)
	return fmt.Sprintf("%.0f/s%s: %s, %s", st.TargetRate, attempt, what, verdict)
}

// retryShift sets a retry's point a little right of the runs before it at its rate.
func retryShift(st SweepStep) float64 { return 5 * float64(st.Attempt) }

// rateAxis is the target rate axis of a sweep, from zero.
func rateAxis(label string, steps []SweepStep, capacity float64) chartAxis {
	hi := capacity
	for _, st := range steps {
		hi = math.Max(hi, st.TargetRate)
	}
	return linearAxis(label, 0, hi, fmtRate)
}

// capacityRef marks the capacity found.
func capacityRef(s *SweepReport, label string) []chartRef {
	if !s.Found {
		return nil
	}
	if label != "" {
		label = fmt.Sprintf("%s %.0f/s", label, s.Capacity)
	}
	return []chartRef{{kind: "capacity", vertical: true, value: s.Capacity, label: label, color: colorCapacity}}
}

// verdictLegend are the legend entries of the verdict colours used by steps.
func verdictLegend(steps []SweepStep) []legendItem {
	items := []legendItem{
		{label: "met", color: colorMet, glyph: true, shape: glyphSquare},
		{label: "missed", color: colorMissed, glyph: true, shape: glyphSquare},
	}
	if slices.ContainsFunc(steps, func(st SweepStep) bool { return st.LoadgenLimited }) {
		items = append(items, legendItem{label: "loadgen limited", color: colorLimited, glyph: true, shape: glyphSquare})
	}
	return items
}

// sweepLatencyFigure draws p50, p99 and p99.9 of every step (retries too, each its own
// point) against the target rate on a log axis, coloured by verdict, with the objective
// and the capacity found. Thin lines join the steps whose verdict counted, by rate.
func sweepLatencyFigure(s *SweepReport) chartFigure {
	capacity := "the blue line is the capacity found."
	if !s.Found {
		capacity = "no step met it, so no capacity is marked."
	}
	f := chartFigure{id: "sweep-latency", title: "Latency per step",
		caption: "One point per step and percentile (a retry is a point of its own, set a little right), green where the step met the objective, red where it missed. The dashed line is the objective; " + capacity}
	p := chartPanel{name: "latency"}
	lo, hi := math.Inf(1), 0.0
	for _, sp := range stepPercentiles {
		for _, st := range s.Steps {
			if st.Report == nil {
				continue
			}
			v := sp.of(&st.Report.LatencyUS)
			if v <= 0 {
				continue // no answer: nothing to draw on a log axis
			}
			verdict := stepVerdict(st)
			p.points = append(p.points, chartPoint{x: st.TargetRate, y: v, series: sp.name, verdict: verdict, color: verdictColor(verdict),
				shape: sp.shape, radius: sp.radius, dx: retryShift(st), title: stepTitle(st, sp.name+" "+fmtLatency(v))})
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		var line []xy
		for _, st := range decidingSteps(s) {
			if v := sp.of(&st.Report.LatencyUS); v > 0 {
				line = append(line, xy{st.TargetRate, v})
			}
		}
		p.curves = append(p.curves, chartCurve{series: sp.name, color: colorCurve, dash: sp.dash, width: 1, xys: line})
		f.legend = append(f.legend, legendItem{label: sp.name, color: colorCurve, line: true, dash: sp.dash, glyph: true, shape: sp.shape})
	}
	f.legend = append(f.legend, verdictLegend(s.Steps)...)
	p.refs = objectiveRefs(sweepSLO(s))
	if len(p.refs) > 0 {
		f.legend = append(f.legend, objectiveLegend())
	}
	for _, r := range p.refs {
		lo, hi = math.Min(lo, r.value), math.Max(hi, r.value)
	}
	p.refs = append(p.refs, capacityRef(s, "capacity")...)
	if s.Found {
		f.legend = append(f.legend, legendItem{label: "capacity", color: colorCapacity, line: true})
	}
	p.x = rateAxis("target rate (requests/s)", s.Steps, s.Capacity)
	p.y = logAxis("latency", lo, hi, fmtLatency)
	f.panels = []chartPanel{p}
	return f
}

// sweepLossFigure draws two panels per step: the answers achieved as a share of the
// target (from zero), and the loss with its bound on a log axis whose bottom is zero.
func sweepLossFigure(s *SweepReport) chartFigure {
	f := chartFigure{id: "sweep-loss", title: "Achieved rate and loss per step", panelHeight: 170,
		caption: "Top: answers per second as a share of the target (reports, which get no answer, left out). Bottom: the share of requests lost, on a log axis whose bottom line is zero; the dashed line is the loss bound."}
	ratio := chartPanel{name: "ratio", refs: []chartRef{{kind: "target", value: 1, color: colorCurve, dash: dashDotted}}}
	loss := chartPanel{name: "loss"}
	var losses []float64
	hiRatio := 1.0
	for _, st := range s.Steps {
		if st.Report == nil {
			continue
		}
		losses = append(losses, st.Report.Loss)
		hiRatio = math.Max(hiRatio, achievedRatio(st.Report))
	}
	bound := 0.0
	slo := sweepSLO(s)
	if slo != nil {
		bound = slo.MaxLoss
	}
	lossY, zeroAt := lossAxis(losses, bound)
	loss.y = lossY
	var ratioLine, lossLine []xy
	for _, st := range decidingSteps(s) {
		ratioLine = append(ratioLine, xy{st.TargetRate, achievedRatio(st.Report)})
		lossLine = append(lossLine, xy{st.TargetRate, math.Max(st.Report.Loss, zeroAt)})
	}
	for _, st := range s.Steps {
		if st.Report == nil {
			continue
		}
		verdict := stepVerdict(st)
		r := achievedRatio(st.Report)
		ratio.points = append(ratio.points, chartPoint{x: st.TargetRate, y: r, series: "achieved", verdict: verdict, color: verdictColor(verdict),
			shape: glyphCircle, radius: 4, dx: retryShift(st), title: stepTitle(st, fmt.Sprintf("%.0f answers/s, %s of the target", st.Report.Rate, fmtPercent(r)))})
		loss.points = append(loss.points, chartPoint{x: st.TargetRate, y: math.Max(st.Report.Loss, zeroAt), series: "loss", verdict: verdict, color: verdictColor(verdict),
			shape: glyphCircle, radius: 4, dx: retryShift(st), title: stepTitle(st, "loss "+fmtPercent(st.Report.Loss))})
	}
	ratio.curves = []chartCurve{{series: "achieved", color: colorCurve, width: 1, xys: ratioLine}}
	loss.curves = []chartCurve{{series: "loss", color: colorCurve, width: 1, xys: lossLine}}
	if slo != nil {
		loss.refs = append(loss.refs, chartRef{kind: "loss-bound", value: math.Max(bound, zeroAt), label: "max loss " + fmtPercent(bound), color: colorRef, dash: dashDashed})
	}
	ratio.refs = append(ratio.refs, capacityRef(s, "capacity")...)
	loss.refs = append(loss.refs, capacityRef(s, "")...)
	ratio.x = rateAxis("", s.Steps, s.Capacity)
	loss.x = rateAxis("target rate (requests/s)", s.Steps, s.Capacity)
	ratio.y = linearAxis("answers / target", 0, hiRatio, fmtPercent)
	f.panels = []chartPanel{ratio, loss}
	f.legend = verdictLegend(s.Steps)
	if slo != nil {
		f.legend = append(f.legend, legendItem{label: "loss bound", color: colorRef, line: true, dash: dashDashed})
	}
	if s.Found {
		f.legend = append(f.legend, legendItem{label: "capacity", color: colorCapacity, line: true})
	}
	return f
}

// achievedRatio is the answers per second as a share of the target rate that expects
// answers.
func achievedRatio(r *Report) float64 {
	if t := answeredTarget(r); t > 0 {
		return r.Rate / t
	}
	return 0
}

// lossAxis is the axis of loss ratios: logarithmic, so that 0.01% and 30% both read,
// with its bottom tick, zeroAt, standing for zero (a loss of 0 is drawn there), at least
// a 1-2-5 step under the smallest loss or bound. Without any loss or bound it is linear
// from 0 to 1%, and zeroAt is 0.
func lossAxis(losses []float64, bound float64) (chartAxis, float64) {
	lo, hi := math.Inf(1), 0.0
	for _, v := range append(slices.Clone(losses), bound) {
		if v > 0 {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi == 0 {
		return linearAxis("loss", 0, 0.01, fmtPercent), 0
	}
	zeroAt := floor125(lo / 3)
	a := logAxis("loss", zeroAt, math.Min(hi, 1), fmtPercent)
	ticks := []chartTick{{value: zeroAt, label: "0"}}
	for _, t := range a.ticks {
		if t.value >= 3*zeroAt*(1-1e-9) && t.value <= 1+1e-9 { // none so close to zero that labels collide
			ticks = append(ticks, t)
		}
	}
	a.ticks = ticks
	a.max = math.Min(a.max, 1.2)
	return a, zeroAt
}
