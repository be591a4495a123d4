package console

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart colours: successes green, errors red.
var (
	succColor = color.RGBA{R: 0x2e, G: 0x8b, B: 0x57, A: 0xff}
	errColor  = color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
)

// maxChartHosts bounds the hosts one chart draws; the table lists them all.
const maxChartHosts = 40

// hostChart draws the successes and errors of each host (summed over callers) as
// grouped bars, in SVG.
func hostChart(hosts []hostStatus) ([]byte, error) {
	if len(hosts) > maxChartHosts {
		hosts = hosts[:maxChartHosts]
	}
	succ := make(plotter.Values, len(hosts))
	errs := make(plotter.Values, len(hosts))
	labels := make([]string, len(hosts))
	top := 1.0
	for i, h := range hosts {
		succ[i], errs[i] = float64(h.Succ), float64(h.Err)
		labels[i] = h.Host.Addr.String() // the address only: the table has the weight and zone
		top = max(top, succ[i], errs[i])
	}
	p := plot.New()
	p.Title.Text = "Calls per host in the callers' last reports"
	p.Y.Label.Text = "calls"
	// Room above the bars for the legend, and half a slot beside the outer bars.
	p.Y.Min, p.Y.Max = 0, top*1.3
	p.X.Min, p.X.Max = -0.6, float64(len(hosts))-0.4
	width := vg.Points(14)
	bs, err := plotter.NewBarChart(succ, width)
	if err != nil {
		return nil, fmt.Errorf("cannot draw the successes: %w", err)
	}
	bs.Color, bs.LineStyle.Width, bs.Offset = succColor, 0, -width/2
	be, err := plotter.NewBarChart(errs, width)
	if err != nil {
		return nil, fmt.Errorf("cannot draw the errors: %w", err)
	}
	be.Color, be.LineStyle.Width, be.Offset = errColor, 0, width/2
	p.Add(bs, be, plotter.NewGrid())
	p.Legend.Add("successes", bs)
	p.Legend.Add("errors", be)
	p.Legend.Top = true
	p.Legend.XOffs = -vg.Points(6)
	p.NominalX(labels...)
	if len(hosts) > 4 {
		p.X.Tick.Label.Rotation = 0.6
		p.X.Tick.Label.XAlign = draw.XRight
	}
	w := max(12*vg.Centimeter, vg.Length(len(hosts))*1.4*vg.Centimeter)
	c := vgsvg.New(w, 7*vg.Centimeter)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("cannot write the chart: %w", err)
	}
	return buf.Bytes(), nil
}
