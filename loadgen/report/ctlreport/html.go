package ctlreport

import (
	"bytes"
	"cmp"
	"fmt"
	"html"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// plotColors colour the lines of the HTML plots.
var plotColors = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
}

// series is one named line of a plot.
type series struct {
	name string
	pts  plotter.XYs
}

// chart is one plot of a page.
type chart struct {
	title, x, y string
	lines       []series
	percentiles bool // the x axis is -log10(1-q), labelled as percentiles
}

// WriteHTML writes a self-contained page (inline SVG, no script) for a route
// service run: its tables, the push latency by percentile, and pushes and latency per
// second.
func (r *DNSReport) WriteHTML(w io.Writer) error {
	var text bytes.Buffer
	r.WriteText(&text)
	var rate, changes, p50, p99 plotter.XYs
	for _, s := range r.Seconds {
		rate = append(rate, plotter.XY{X: s.T, Y: s.PushRate})
		changes = append(changes, plotter.XY{X: s.T, Y: float64(s.Changes) / s.Span})
		p50 = append(p50, plotter.XY{X: s.T, Y: s.P50MS})
		p99 = append(p99, plotter.XY{X: s.T, Y: s.P99MS})
	}
	charts := []chart{
		{title: "Push latency by percentile (from the commit)", x: "percentile", y: "latency (ms)", percentiles: true,
			lines: []series{{"every push", percentileCurve(r.Pushes.Histogram)}}},
		{title: "Pushes received per second", x: "time (s)", y: "pushes/s", lines: []series{{"pushes/s", rate}}},
		{title: "Changes committed per second", x: "time (s)", y: "changes/s", lines: []series{{"changes/s", changes}}},
		{title: "Push latency per second", x: "time (s)", y: "latency (ms)", lines: []series{{"p50", p50}, {"p99", p99}}},
	}
	return writeHTMLPage(w, "Lars route service load test", text.String(), charts)
}

// WriteHTML writes a self-contained page for a route service search.
func (s *DNSSweepReport) WriteHTML(w io.Writer) error {
	var text bytes.Buffer
	s.WriteText(&text)
	x := "agents"
	if s.Over == SweepChanges {
		x = "changes/s"
	}
	var p50, p99, last, rate plotter.XYs
	for _, st := range s.Steps {
		r := st.Report
		p50 = append(p50, plotter.XY{X: st.Value, Y: r.Pushes.LatencyMS.P50})
		p99 = append(p99, plotter.XY{X: st.Value, Y: r.Pushes.LatencyMS.P99})
		last = append(last, plotter.XY{X: st.Value, Y: r.Pushes.LastMS.P99})
		rate = append(rate, plotter.XY{X: st.Value, Y: r.Pushes.Rate})
	}
	charts := []chart{
		{title: "Push latency against " + x, x: x, y: "latency (ms)",
			lines: []series{{"push p50", sortedXY(p50)}, {"push p99", sortedXY(p99)}, {"last agent p99", sortedXY(last)}}},
		{title: "Pushes received per second against " + x, x: x, y: "pushes/s", lines: []series{{"pushes/s", sortedXY(rate)}}},
	}
	return writeHTMLPage(w, "Lars route service capacity search", text.String(), charts)
}

// WriteHTML writes a self-contained page for a report service run.
func (r *ReporterReport) WriteHTML(w io.Writer) error {
	var text bytes.Buffer
	r.WriteText(&text)
	var sent, read, rows, stored, queue plotter.XYs
	for _, s := range r.Seconds {
		sent = append(sent, plotter.XY{X: s.T, Y: s.ResultRate})
		if r.Service != nil && s.ServiceResults >= 0 {
			read = append(read, plotter.XY{X: s.T, Y: s.ServiceResults / s.Span})
			rows = append(rows, plotter.XY{X: s.T, Y: s.ServiceRows / s.Span})
			queue = append(queue, plotter.XY{X: s.T, Y: s.QueueRows})
		}
		if r.Store != nil && s.StoreResults >= 0 {
			stored = append(stored, plotter.XY{X: s.T, Y: s.StoreResults / s.Span})
		}
	}
	charts := []chart{
		{title: "Results per second", x: "time (s)", y: "results/s",
			lines: []series{{"sent", sent}, {"read by the service", read}, {"rows written by the service", rows}, {"held by the store", stored}}},
	}
	if len(queue) > 0 {
		charts = append(charts, chart{title: "Service queue", x: "time (s)", y: "rows queued", lines: []series{{"queued", queue}}})
	}
	return writeHTMLPage(w, "Lars report service load test", text.String(), charts)
}

// WriteHTML writes a self-contained page for a report service search.
func (s *ReporterSweepReport) WriteHTML(w io.Writer) error {
	var text bytes.Buffer
	s.WriteText(&text)
	var sent, rows, stored plotter.XYs
	for _, st := range s.Steps {
		r := st.Report
		sent = append(sent, plotter.XY{X: st.Rate, Y: r.Sent.ResultRate})
		if r.Service != nil {
			rows = append(rows, plotter.XY{X: st.Rate, Y: r.Service.RowRate})
		}
		if r.Store != nil {
			stored = append(stored, plotter.XY{X: st.Rate, Y: r.Store.ResultRate})
		}
	}
	charts := []chart{{title: "Results per second against the target frame rate", x: "target frames/s", y: "results/s",
		lines: []series{{"sent", sortedXY(sent)}, {"rows written by the service", sortedXY(rows)}, {"held by the store", sortedXY(stored)}}}}
	return writeHTMLPage(w, "Lars report service capacity search", text.String(), charts)
}

// percentileCurve turns histogram buckets into points (x = -log10(1-q), y = the
// bucket's upper bound).
func percentileCurve(buckets []Bucket) plotter.XYs {
	var n uint64
	for _, b := range buckets {
		n += b.Count
	}
	var pts plotter.XYs
	var seen uint64
	for _, b := range buckets {
		seen += b.Count
		q := float64(seen) / float64(n)
		x := math.Log10(float64(n)) // the last bucket: as far as n values resolve
		if q < 1 {
			x = -math.Log10(1 - q)
		}
		pts = append(pts, plotter.XY{X: x, Y: b.HighMS})
	}
	return pts
}

// sortedXY returns pts sorted by X (a search visits its values out of order).
func sortedXY(pts plotter.XYs) plotter.XYs {
	out := slices.Clone(pts)
	slices.SortStableFunc(out, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
	return out
}

func writeHTMLPage(w io.Writer, title, text string, charts []chart) error {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n", html.EscapeString(title))
	b.WriteString("<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em;overflow-x:auto}svg{display:block;margin:1em 0}</style>\n")
	fmt.Fprintf(&b, "</head><body>\n<h1>%s</h1>\n<pre>%s</pre>\n", html.EscapeString(title), html.EscapeString(text))
	for _, c := range charts {
		svg, err := c.svg()
		if err != nil {
			return fmt.Errorf("cannot plot %q: %w", c.title, err)
		}
		b.WriteString(svg)
		b.WriteByte('\n')
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// svg draws the chart as an inline SVG element.
func (c chart) svg() (string, error) {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = c.title, c.x, c.y
	for i, s := range c.lines {
		if len(s.pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(s.pts)
		if err != nil {
			return "", err
		}
		l.Color = plotColors[i%len(plotColors)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	if c.percentiles {
		var ticks []plot.Tick
		for i, lbl := range []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"} {
			ticks = append(ticks, plot.Tick{Value: float64(i), Label: lbl})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min = 0
	}
	wt, err := p.WriterTo(8*vg.Inch, 4*vg.Inch, "svg")
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
