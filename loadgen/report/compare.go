package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/larsgo/lars/loadgen/stats"
)

// Kinds of report, as DecodeReport tells them apart by their schema field.
const (
	KindRun   = "run"
	KindSweep = "sweep"
)

// ErrNotReport is returned by DecodeReport for a document that is not a lars-loadgen
// report of a known schema.
var ErrNotReport = errors.New("not a lars-loadgen report")

// DecodeReport reads a -json document: a run report (schema SchemaVersion) or a sweep
// report (SweepSchemaVersion); exactly one of run and sweep is set. Fields unknown to
// this version are ignored (a schema only ever gains fields).
func DecodeReport(data []byte) (run *Report, sweep *SweepReport, err error) {
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrNotReport, err)
	}
	switch head.Schema {
	case SchemaVersion:
		run = &Report{}
		err = json.Unmarshal(data, run)
	case SweepSchemaVersion:
		sweep = &SweepReport{}
		err = json.Unmarshal(data, sweep)
	case "":
		return nil, nil, fmt.Errorf("%w: no schema field", ErrNotReport)
	default:
		return nil, nil, fmt.Errorf("%w: unknown schema %q (this version reads %q and %q)", ErrNotReport, head.Schema, SchemaVersion, SweepSchemaVersion)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: bad %s document: %w", ErrNotReport, head.Schema, err)
	}
	return run, sweep, nil
}

// DefaultThreshold is the change, in percent, beyond which B counts as worse than A.
const DefaultThreshold = 10

// Comparison sets two reports of the same kind side by side: A, the reference, and B.
type Comparison struct {
	// Kind is KindRun or KindSweep.
	Kind string
	// NameA and NameB label the sides (file names).
	NameA, NameB string
	// Threshold is the change in percent beyond which a gated figure of B is worse.
	Threshold float64
	// Figures are the figures of both sides, in the order shown.
	Figures []CompareFigure
	// RunA and RunB are the reports of a comparison of runs; SweepA and SweepB those of
	// sweeps.
	RunA, RunB     *Report
	SweepA, SweepB *SweepReport
}

// CompareFigure is one figure on both sides.
type CompareFigure struct {
	// Name says what it is, with its unit: "p99 µs", "capacity /s".
	Name string
	// A and B are its values; +Inf stands for a latency without any answer, NaN for a
	// figure a side does not have.
	A, B float64
	// Change is (B - A) / A in percent; NaN when it means nothing (A is 0, infinite or
	// missing); +Inf when A is 0 and B is not.
	Change float64
	// LowerIsBetter is true for latencies and loss, false for rates and capacity.
	LowerIsBetter bool
	// Gate is true for the figures a comparison is judged on: p99 for runs, capacity
	// for sweeps.
	Gate bool
	// Worse is true when Gate is and B is worse than A by more than the threshold.
	Worse bool
	// unit formats the values.
	unit string
}

// Units of CompareFigure values.
const (
	unitRate    = "/s"
	unitLatency = "µs"
	unitPercent = "%"
)

// Regressions are the gated figures on which B is worse than A beyond the threshold.
func (c *Comparison) Regressions() []CompareFigure {
	var out []CompareFigure
	for _, f := range c.Figures {
		if f.Worse {
			out = append(out, f)
		}
	}
	return out
}

// CompareRuns compares two run reports; a negative threshold takes DefaultThreshold.
func CompareRuns(nameA string, a *Report, nameB string, b *Report, threshold float64) *Comparison {
	c := &Comparison{Kind: KindRun, NameA: nameA, NameB: nameB, Threshold: threshold, RunA: a, RunB: b}
	if threshold < 0 {
		c.Threshold = DefaultThreshold
	}
	c.add("answers/s", a.Rate, b.Rate, unitRate, false, false)
	c.add("loss %", a.Loss*100, b.Loss*100, unitPercent, true, false)
	lat := []struct {
		name string
		gate bool
		of   func(*Latency) float64
	}{
		{"mean", false, func(l *Latency) float64 { return l.Mean }},
		{"p50", false, func(l *Latency) float64 { return l.P50 }},
		{"p90", false, func(l *Latency) float64 { return l.P90 }},
		{"p99", true, func(l *Latency) float64 { return l.P99 }},
		{"p99.9", false, func(l *Latency) float64 { return l.P999 }},
		{"p99.99", false, func(l *Latency) float64 { return l.P9999 }},
		{"max", false, func(l *Latency) float64 { return l.Max }},
	}
	for _, l := range lat {
		c.add(l.name+" µs", answeredLatency(a.Received, &a.LatencyUS, l.of), answeredLatency(b.Received, &b.LatencyUS, l.of), unitLatency, true, l.gate)
	}
	for _, t := range []struct {
		name string
		a, b TypeStats
	}{{"get_host", a.ByType.GetHost, b.ByType.GetHost}, {"get_route", a.ByType.GetRoute, b.ByType.GetRoute}} {
		if t.a.Sent > 0 || t.b.Sent > 0 {
			p99 := func(l *Latency) float64 { return l.P99 }
			c.add(t.name+" p99 µs", answeredLatency(t.a.Received, &t.a.LatencyUS, p99), answeredLatency(t.b.Received, &t.b.LatencyUS, p99), unitLatency, true, false)
		}
	}
	return c
}

// answeredLatency is a latency figure, +Inf when nothing was answered (a run whose
// every request was lost has no latency, and must not look fast).
func answeredLatency(received uint64, l *Latency, of func(*Latency) float64) float64 {
	if received == 0 {
		return math.Inf(1)
	}
	return of(l)
}

// CompareSweeps compares two capacity searches; a negative threshold takes
// DefaultThreshold.
func CompareSweeps(nameA string, a *SweepReport, nameB string, b *SweepReport, threshold float64) *Comparison {
	c := &Comparison{Kind: KindSweep, NameA: nameA, NameB: nameB, Threshold: threshold, SweepA: a, SweepB: b}
	if threshold < 0 {
		c.Threshold = DefaultThreshold
	}
	c.add("capacity /s", a.Capacity, b.Capacity, unitRate, false, true)
	ca, cb := capacityStep(a), capacityStep(b)
	of := func(r *Report, f func(*Report) float64) float64 {
		if r == nil {
			return math.NaN()
		}
		return f(r)
	}
	c.add("answers/s at capacity", of(ca, func(r *Report) float64 { return r.Rate }), of(cb, func(r *Report) float64 { return r.Rate }), unitRate, false, false)
	for _, p := range stepPercentiles {
		get := func(r *Report) float64 { return p.of(&r.LatencyUS) }
		c.add(p.name+" µs at capacity", of(ca, get), of(cb, get), unitLatency, true, false)
	}
	c.add("loss % at capacity", of(ca, func(r *Report) float64 { return r.Loss * 100 }), of(cb, func(r *Report) float64 { return r.Loss * 100 }), unitPercent, true, false)
	return c
}

// capacityStep is the report of the step that set the capacity, nil if none did.
func capacityStep(s *SweepReport) *Report {
	if !s.Found {
		return nil
	}
	for _, st := range decidingSteps(s) {
		if st.Met && st.TargetRate == s.Capacity {
			return st.Report
		}
	}
	return nil
}

func (c *Comparison) add(name string, a, b float64, unit string, lowerIsBetter, gate bool) {
	f := CompareFigure{Name: name, A: a, B: b, Change: percentChange(a, b), LowerIsBetter: lowerIsBetter, Gate: gate, unit: unit}
	if gate && !math.IsNaN(f.Change) {
		if lowerIsBetter {
			f.Worse = f.Change > c.Threshold
		} else {
			f.Worse = f.Change < -c.Threshold
		}
	}
	c.Figures = append(c.Figures, f)
}

// percentChange is (b - a) / a in percent: 0 when equal, +Inf from 0 to more, NaN when
// a is 0 and b is not above it, or either is missing, or a is infinite.
func percentChange(a, b float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(b):
		return math.NaN()
	case a == b:
		return 0
	case math.IsInf(a, 0):
		return math.NaN()
	case math.IsInf(b, 1):
		return math.Inf(1)
	case a == 0 && b > 0:
		return math.Inf(1)
	case a == 0:
		return math.NaN()
	}
	return (b - a) / math.Abs(a) * 100
}

// Format returns a value of f as shown in tables.
func (f CompareFigure) Format(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "no answer"
	case f.unit == unitLatency:
		return us(v)
	case f.unit == unitPercent:
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// FormatChange returns the change of f as shown in tables: +12.3%, -0.25%, 0%.
func (f CompareFigure) FormatChange() string {
	switch {
	case math.IsNaN(f.Change):
		return "–"
	case math.IsInf(f.Change, 1):
		return "+∞"
	case f.Change == 0:
		return "0%"
	}
	if math.Abs(f.Change) < 1 {
		return fmt.Sprintf("%+.2f%%", f.Change)
	}
	return fmt.Sprintf("%+.1f%%", f.Change)
}

// Better tells whether B is better (1), worse (-1) or the same as A (0) on f,
// whatever the threshold.
func (f CompareFigure) Better() int {
	switch {
	case math.IsNaN(f.Change) || f.Change == 0:
		return 0
	case (f.Change < 0) == f.LowerIsBetter:
		return 1
	}
	return -1
}

// Verdict is the comparison's answer in one sentence.
func (c *Comparison) Verdict() string {
	on := "p99"
	if c.Kind == KindSweep {
		on = "capacity"
	}
	reg := c.Regressions()
	if len(reg) == 0 {
		return fmt.Sprintf("B is not worse than A beyond %g%% on %s.", c.Threshold, on)
	}
	var parts []string
	for _, f := range reg {
		parts = append(parts, fmt.Sprintf("%s %s (%s -> %s)", strings.Fields(f.Name)[0], f.FormatChange(), f.Format(f.A), f.Format(f.B)))
	}
	return fmt.Sprintf("B is worse than A beyond %g%%: %s.", c.Threshold, strings.Join(parts, ", "))
}

// Sides describes A and B in words, with notes on what makes them hard to compare.
func (c *Comparison) Sides() (a, b string, notes []string) {
	if c.Kind == KindSweep {
		a, b = describeSweep(c.SweepA), describeSweep(c.SweepB)
		if c.SweepA.Objective != c.SweepB.Objective {
			notes = append(notes, fmt.Sprintf("the objectives differ (%s, %s): the capacities answer different questions", c.SweepA.Objective, c.SweepB.Objective))
		}
		return a, b, notes
	}
	a, b = describeRun(c.RunA), describeRun(c.RunB)
	if runMode(c.RunA) != runMode(c.RunB) {
		notes = append(notes, "the loads differ: the latencies answer different questions")
	}
	return a, b, notes
}

func describeRun(r *Report) string {
	return fmt.Sprintf("%s, %.2f s measured, started %s", runMode(r), r.DurationS, r.Start.Format("2006-01-02 15:04:05"))
}

func describeSweep(s *SweepReport) string {
	capacity := "no step met it"
	if s.Found {
		capacity = fmt.Sprintf("capacity %.0f/s", s.Capacity)
	}
	return fmt.Sprintf("objective %s, %d steps of %.2f s, %s", s.Objective, len(s.Steps), s.StepDurationS, capacity)
}

// WriteText writes the comparison as a table: each figure of A and B, the change, the
// gated figures that got worse marked, and the verdict.
func (c *Comparison) WriteText(w io.Writer) error {
	a, b, notes := c.Sides()
	fmt.Fprintf(w, "comparing two %ss, threshold %g%%\nA: %s: %s\nB: %s: %s\n", c.Kind, c.Threshold, c.NameA, a, c.NameB, b)
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintln(w)
	// Names are padded here so that they read left-aligned, the numbers right-aligned.
	width := len("figure")
	for _, f := range c.Figures {
		width = max(width, utf8.RuneCountInString(f.Name))
	}
	tw := stats.NewTable(w)
	fmt.Fprintf(tw, "%-*s\tA\tB\tchange\t\t\n", width, "figure")
	for _, f := range c.Figures {
		mark := ""
		switch {
		case f.Worse:
			mark = "WORSE"
		case f.Gate:
			mark = "(judged)"
		}
		fmt.Fprintf(tw, "%-*s\t%s\t%s\t%s\t%s\t\n", width, f.Name, f.Format(f.A), f.Format(f.B), f.FormatChange(), mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", c.Verdict())
	return err
}
