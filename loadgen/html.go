package loadgen

import (
	"bytes"
	"cmp"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// WriteHTML writes a self-contained page (inline SVG, no script, works offline) with
// the report's table, its latency percentile curve and its rate and latency over
// time, plotted with gonum.org/v1/plot.
func WriteHTML(w io.Writer, r *Report) error {
	var text bytes.Buffer
	WriteText(&text, r)
	var svgs []string
	for _, mk := range []func(*Report) (*plot.Plot, error){percentilePlot, ratePlot, latencyPlot} {
		p, err := mk(r)
		if err != nil {
			return err
		}
		s, err := renderSVG(p, 8*vg.Inch, 4*vg.Inch)
		if err != nil {
			return err
		}
		svgs = append(svgs, s)
	}
	return writePage(w, "Lars load test", text.String(), svgs)
}

// WriteSweepHTML writes a self-contained page for a capacity search: the steps'
// table and latency and achieved rate against the target rate.
func WriteSweepHTML(w io.Writer, s *SweepReport) error {
	var text bytes.Buffer
	WriteSweepText(&text, s)
	p := plot.New()
	p.Title.Text = "Latency against target rate"
	p.X.Label.Text = "target rate (requests/s)"
	p.Y.Label.Text = "latency (µs)"
	var p50, p99, p999, ach plotter.XYs
	for _, st := range s.Steps {
		l := st.Report.LatencyUS
		p50 = append(p50, plotter.XY{X: st.TargetRate, Y: l.P50})
		p99 = append(p99, plotter.XY{X: st.TargetRate, Y: l.P99})
		p999 = append(p999, plotter.XY{X: st.TargetRate, Y: l.P999})
		ach = append(ach, plotter.XY{X: st.TargetRate, Y: st.Report.Rate})
	}
	sortXY(p50, p99, p999, ach)
	if err := addLines(p, []string{"p50", "p99", "p99.9"}, p50, p99, p999); err != nil {
		return err
	}
	q := plot.New()
	q.Title.Text = "Achieved against target rate"
	q.X.Label.Text = "target rate (requests/s)"
	q.Y.Label.Text = "answers/s"
	if err := addLines(q, []string{"achieved"}, ach); err != nil {
		return err
	}
	var svgs []string
	for _, pl := range []*plot.Plot{p, q} {
		svg, err := renderSVG(pl, 8*vg.Inch, 4*vg.Inch)
		if err != nil {
			return err
		}
		svgs = append(svgs, svg)
	}
	return writePage(w, "Lars capacity search", text.String(), svgs)
}

func writePage(w io.Writer, title, text string, svgs []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n", html.EscapeString(title))
	b.WriteString("<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em;overflow-x:auto}svg{display:block;margin:1em 0}</style>\n")
	fmt.Fprintf(&b, "</head><body>\n<h1>%s</h1>\n<pre>%s</pre>\n", html.EscapeString(title), html.EscapeString(text))
	for _, s := range svgs {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// renderSVG draws p as an SVG element, without the XML declaration, for inline use.
func renderSVG(p *plot.Plot, width, height vg.Length) (string, error) {
	wt, err := p.WriterTo(width, height, "svg")
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return "", err
	}
	s := buf.String()
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	return s, nil
}

// percentilePlot draws latency against percentile, on an axis that stretches the
// tail: x = -log10(1 - q), so 90% is 1, 99% is 2, 99.9% is 3.
func percentilePlot(r *Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Latency by percentile"
	p.X.Label.Text = "percentile"
	p.Y.Label.Text = "latency (µs)"
	var n uint64
	for _, b := range r.Histogram {
		n += b.Count
	}
	var pts plotter.XYs
	var seen uint64
	for _, b := range r.Histogram {
		seen += b.Count
		q := float64(seen) / float64(n)
		x := math.Log10(float64(n)) // the last bucket: as far as n samples resolve
		if q < 1 {
			x = -math.Log10(1 - q)
		}
		pts = append(pts, plotter.XY{X: x, Y: b.HighUS})
	}
	if len(pts) == 0 {
		pts = plotter.XYs{{X: 0, Y: 0}}
	}
	var ticks []plot.Tick
	for i, lbl := range []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"} {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: lbl})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min = 0
	return p, addLines(p, []string{"latency"}, pts)
}

func ratePlot(r *Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Answers per second"
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "answers/s"
	var rate, sent plotter.XYs
	for _, s := range r.Seconds {
		rate = append(rate, plotter.XY{X: s.T, Y: s.Rate})
		if s.Span > 0 {
			sent = append(sent, plotter.XY{X: s.T, Y: float64(s.Sent) / s.Span})
		}
	}
	return p, addLines(p, []string{"received", "sent"}, rate, sent)
}

func latencyPlot(r *Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Latency per second"
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "latency (µs)"
	var p50, p99, p999 plotter.XYs
	for _, s := range r.Seconds {
		p50 = append(p50, plotter.XY{X: s.T, Y: s.P50US})
		p99 = append(p99, plotter.XY{X: s.T, Y: s.P99US})
		p999 = append(p999, plotter.XY{X: s.T, Y: s.P999US})
	}
	return p, addLines(p, []string{"p50", "p99", "p99.9"}, p50, p99, p999)
}

// addLines adds one line with points per series; empty series are skipped.
func addLines(p *plot.Plot, names []string, series ...plotter.XYs) error {
	for i, s := range series {
		if len(s) == 0 {
			continue
		}
		l, err := plotter.NewLine(s)
		if err != nil {
			return err
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(names[i], l)
	}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return nil
}

func sortXY(series ...plotter.XYs) {
	for _, s := range series {
		slices.SortFunc(s, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
	}
}
