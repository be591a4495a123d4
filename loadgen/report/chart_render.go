package report

import (
	"bytes"
	"fmt"
	"html"
	"image/color"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Sizes of the drawn charts, in points. The SVG scales to the page's width; at the
// usual 900 to 1200 pixels the smallest text (11 points) is 13 to 18 pixels high.
const (
	figureWidth        = 700
	defaultPanelHeight = 270
	legendGap          = 14
	panelGap           = 10
)

// chartFont is the charts' typeface (gonum embeds its metrics; the page names it with
// fallbacks).
var chartFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

func textStyle(size float64, c color.Color, x draw.XAlignment, y draw.YAlignment) text.Style {
	return text.Style{Color: c, Font: font.From(chartFont, vg.Points(size)), XAlign: x, YAlign: y, Handler: plot.DefaultTextHandler}
}

// renderFigure draws f as an inline <svg> element that scales to its container. Each
// drawn element sits in a group that names it, for people and tests: <g class="curve"
// data-series="p99">, <g class="point met" data-series="p99" data-x=".." data-y="..">
// with a <title> tooltip, <g class="ref objective" data-value="..">, <g class="legend">,
// <g class="panel" data-panel="..">.
func renderFigure(f *chartFigure) (svg string, err error) {
	defer func() {
		// gonum panics on what it cannot draw; the data is checked before, but a page
		// written at the end of a long search should fail with an error, not a crash.
		if r := recover(); r != nil {
			svg, err = "", fmt.Errorf("cannot draw chart %s: %v", f.id, r)
		}
	}()
	ph := f.panelHeight
	if ph <= 0 {
		ph = defaultPanelHeight
	}
	height := ph*float64(len(f.panels)) + panelGap*float64(len(f.panels)-1)
	canvas := vgsvg.New(figureWidth, vg.Length(height))
	dc := draw.New(canvas)
	marks := &svgMarks{}

	legend := buildLegend(f.legend)
	legendWidth := vg.Length(0)
	if len(f.legend) > 0 {
		for _, it := range f.legend {
			legendWidth = max(legendWidth, legend.ThumbnailWidth+legend.TextStyle.Width(" "+it.label))
		}
		legendWidth += legendGap
	}
	plotArea := draw.Crop(dc, 0, -legendWidth, 0, 0)
	plots := make([][]*plot.Plot, len(f.panels))
	for i := range f.panels {
		plots[i] = []*plot.Plot{buildPlot(&f.panels[i], marks)}
	}
	areas := [][]draw.Canvas{{plotArea}}
	if len(plots) > 1 {
		areas = plot.Align(plots, draw.Tiles{Rows: len(plots), Cols: 1, PadY: panelGap}, plotArea)
	}
	for i, row := range plots {
		marks.begin(canvas, fmt.Sprintf(`<g class="panel" data-panel="%s">`, html.EscapeString(f.panels[i].name)))
		row[0].Draw(areas[i][0])
		marks.end(canvas)
	}
	if len(f.legend) > 0 {
		marks.begin(canvas, `<g class="legend">`)
		la := draw.Crop(dc, figureWidth-legendWidth+legendGap, 0, 0, -6)
		legend.Draw(la)
		marks.end(canvas)
	}
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("cannot draw chart %s: %w", f.id, err)
	}
	return marks.apply(buf.String(), f.title), nil
}

// buildPlot makes a gonum plot of one panel: axes and ticks as the data says, a grid
// at the labelled ticks, then the panel's curves, points and reference lines.
func buildPlot(pn *chartPanel, marks *svgMarks) *plot.Plot {
	p := plot.New()
	for _, ax := range []struct {
		a *plot.Axis
		d chartAxis
	}{{&p.X, pn.x}, {&p.Y, pn.y}} {
		ax.a.Label.Text = ax.d.label
		ax.a.Label.TextStyle.Font = font.From(chartFont, 12)
		ax.a.Tick.Label.Font = font.From(chartFont, 11)
		ax.a.Padding = 0
		ax.a.Min, ax.a.Max = ax.d.min, ax.d.max
		if !(ax.a.Max > ax.a.Min) || math.IsInf(ax.a.Max-ax.a.Min, 0) || ax.d.log && !(ax.a.Min > 0) {
			ax.a.Min, ax.a.Max = 1, 10 // a damaged report: an empty axis rather than none
		}
		if ax.d.log {
			ax.a.Scale = plot.LogScale{}
		}
		var ticks []plot.Tick
		for _, t := range ax.d.ticks {
			if t.value >= ax.a.Min && t.value <= ax.a.Max {
				ticks = append(ticks, plot.Tick{Value: t.value, Label: t.label})
			}
		}
		ax.a.Tick.Marker = plot.ConstantTicks(ticks)
	}
	p.Add(gridPlotter{pn}, panelPlotter{pn, marks})
	return p
}

// gridPlotter draws light lines at the labelled ticks of both axes.
type gridPlotter struct{ pn *chartPanel }

// Plot implements plot.Plotter.
func (g gridPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := draw.LineStyle{Color: colorGrid, Width: vg.Points(0.7)}
	for _, t := range g.pn.x.ticks {
		if t.label != "" {
			x := trX(t.value)
			c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
		}
	}
	for _, t := range g.pn.y.ticks {
		if t.label != "" {
			y := trY(t.value)
			c.StrokeLine2(sty, c.Min.X, y, c.Max.X, y)
		}
	}
}

// panelPlotter draws a panel's curves, points and reference lines, each in its group.
type panelPlotter struct {
	pn    *chartPanel
	marks *svgMarks
}

// Plot implements plot.Plotter.
func (pp panelPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	pt := func(x, y float64) vg.Point { return vg.Point{X: trX(x), Y: trY(y)} }
	// A damaged report may hold what an axis cannot show (gonum panics on a log axis).
	okX := func(v float64) bool { return drawable(p.X, v) }
	okY := func(v float64) bool { return drawable(p.Y, v) }
	for _, cv := range pp.pn.curves {
		pp.marks.begin(c, fmt.Sprintf(`<g class="curve" data-series="%s">`, html.EscapeString(cv.series)))
		var line []vg.Point
		for _, v := range cv.xys {
			if okX(v.x) && okY(v.y) {
				line = append(line, pt(v.x, v.y))
			}
		}
		if len(line) > 1 {
			c.StrokeLines(lineStyle(cv.color, cv.dash, cv.width), c.ClipLinesXY(line)...)
		}
		pp.marks.end(c)
	}
	for _, v := range pp.pn.points {
		if !okX(v.x) || !okY(v.y) {
			continue
		}
		pp.marks.begin(c, fmt.Sprintf(`<g class="point %s" data-series="%s" data-x="%s" data-y="%s"><title>%s</title>`,
			html.EscapeString(v.verdict), html.EscapeString(v.series), num(v.x), num(v.y), html.EscapeString(v.title)))
		at := pt(v.x, v.y)
		at.X += vg.Points(v.dx)
		c.DrawGlyph(glyphStyle(v.color, v.shape, v.radius), at)
		pp.marks.end(c)
	}
	var taken []vg.Rectangle // what a label must not hide: the points, the labels placed
	for _, v := range pp.pn.points {
		if okX(v.x) && okY(v.y) {
			at := pt(v.x, v.y)
			at.X += vg.Points(v.dx)
			rad := vg.Points(v.radius + 1)
			taken = append(taken, vg.Rectangle{Min: vg.Point{X: at.X - rad, Y: at.Y - rad}, Max: vg.Point{X: at.X + rad, Y: at.Y + rad}})
		}
	}
	for _, r := range pp.pn.refs {
		if r.vertical && !okX(r.value) || !r.vertical && !okY(r.value) {
			continue
		}
		pp.marks.begin(c, fmt.Sprintf(`<g class="ref %s" data-value="%s"><title>%s</title>`, html.EscapeString(r.kind), num(r.value), html.EscapeString(r.label)))
		drawRef(c, r, trX, trY, &taken)
		pp.marks.end(c)
	}
}

// drawable tells whether v can be placed on axis a: a number, and positive on a log
// scale.
func drawable(a plot.Axis, v float64) bool {
	if _, log := a.Scale.(plot.LogScale); log && !(v > 0) {
		return false
	}
	return !math.IsNaN(v) && !math.IsInf(v, 0)
}

// drawRef draws a reference line across the panel and its label on a light background,
// at the first free place (taken holds the points' boxes and the labels placed so far):
// near the top of a vertical line, right or left of it, else near its bottom; above a
// horizontal line at its left end (low rates and percentiles rarely reach it) or right
// end, else under it, else further along.
func drawRef(c draw.Canvas, r chartRef, trX, trY func(float64) vg.Length, taken *[]vg.Rectangle) {
	sty := lineStyle(r.color, r.dash, 1.6)
	ts := textStyle(11, r.color, draw.XLeft, draw.YBottom)
	h, w := ts.Height(r.label), ts.Width(r.label)
	var spots []vg.Point
	if r.vertical {
		x := trX(r.value)
		c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
		for row := vg.Length(r.row); row < vg.Length(r.row+3); row++ {
			top, bottom := c.Max.Y-h*(row+1)-2, c.Min.Y+h*row+3
			spots = append(spots, vg.Point{X: x + 4, Y: top}, vg.Point{X: x - 4 - w, Y: top}, vg.Point{X: x + 4, Y: bottom}, vg.Point{X: x - 4 - w, Y: bottom})
		}
	} else {
		y := trY(r.value)
		c.StrokeLine2(sty, c.Min.X, y, c.Max.X, y)
		left, right := c.Min.X+6+vg.Length(r.row)*(w+12), c.Max.X-6-w
		spots = append(spots, vg.Point{X: left, Y: y + 3}, vg.Point{X: right, Y: y + 3}, vg.Point{X: left, Y: y - 3 - h}, vg.Point{X: right, Y: y - 3 - h})
		for col := vg.Length(r.row + 1); col < vg.Length(r.row+4); col++ {
			x := c.Min.X + 6 + col*(w+12)
			spots = append(spots, vg.Point{X: x, Y: y + 3}, vg.Point{X: x, Y: y - 3 - h})
		}
	}
	if r.label == "" {
		return
	}
	box := func(at vg.Point) vg.Rectangle {
		return vg.Rectangle{Min: vg.Point{X: at.X - 2, Y: at.Y - 1}, Max: vg.Point{X: at.X + w + 2, Y: at.Y + h}}
	}
	inside := func(b vg.Rectangle) bool {
		return b.Min.X >= c.Min.X && b.Max.X <= c.Max.X && b.Min.Y >= c.Min.Y && b.Max.Y <= c.Max.Y
	}
	free := func(b vg.Rectangle) bool {
		return !slices.ContainsFunc(*taken, func(o vg.Rectangle) bool {
			return b.Min.X < o.Max.X && o.Min.X < b.Max.X && b.Min.Y < o.Max.Y && o.Min.Y < b.Max.Y
		})
	}
	best := -1
	for i, at := range spots {
		if b := box(at); inside(b) && free(b) {
			best = i
			break
		}
		if best < 0 && inside(box(at)) {
			best = i // nothing free: the first place that fits
		}
	}
	at := spots[max(best, 0)]
	*taken = append(*taken, box(at))
	c.SetColor(colorLabelBg)
	c.Fill(box(at).Path())
	c.FillText(ts, at, r.label)
}

func lineStyle(c color.Color, d lineDash, width float64) draw.LineStyle {
	sty := draw.LineStyle{Color: c, Width: vg.Points(width)}
	switch d {
	case dashDashed:
		sty.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	case dashDotted:
		sty.Dashes = []vg.Length{vg.Points(1.5), vg.Points(3)}
	}
	return sty
}

func glyphStyle(c color.Color, s glyphShape, radius float64) draw.GlyphStyle {
	sty := draw.GlyphStyle{Color: c, Radius: vg.Points(radius), Shape: draw.CircleGlyph{}}
	switch s {
	case glyphRing:
		sty.Shape = draw.RingGlyph{}
	case glyphTriangle:
		sty.Shape = draw.TriangleGlyph{}
	case glyphSquare:
		sty.Shape = draw.BoxGlyph{}
	}
	return sty
}

// buildLegend makes the legend, drawn beside the panels, never over the data.
func buildLegend(items []legendItem) plot.Legend {
	l := plot.NewLegend()
	l.TextStyle = textStyle(11.5, color.Black, draw.XLeft, draw.YBottom)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = vg.Points(24)
	l.Padding = vg.Points(5)
	for _, it := range items {
		l.Add(it.label, legendThumb{it})
	}
	return l
}

// legendThumb draws a legend entry's line and glyph.
type legendThumb struct{ it legendItem }

// Thumbnail implements plot.Thumbnailer.
func (t legendThumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	if t.it.line {
		c.StrokeLine2(lineStyle(t.it.color, t.it.dash, 1.6), c.Min.X, y, c.Max.X, y)
	}
	if t.it.glyph {
		c.DrawGlyphNoClip(glyphStyle(t.it.color, t.it.shape, 4), c.Center())
	}
}

// num formats a data value for an attribute.
func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// svgMarks wraps parts of gonum's SVG output in groups. vgsvg offers no way to write an
// element of one's own, so begin and end draw invisible sentinel paths (a lone move to
// a point far off the canvas, whose coordinates number the group) that apply replaces
// with the group's tags.
type svgMarks struct{ open []string }

// Sentinel coordinates: x tells begin from end, y the group's number (vgsvg writes
// coordinates with 5 significant digits, so groups are numbered up to 99999).
const (
	markBeginX = -77777
	markEndX   = -77778
)

var (
	markRE    = regexp.MustCompile(`<path d="M(-7777[78]),(-?\d+)"[^>]*>\n?`)
	svgSizeRE = regexp.MustCompile(`^<svg width="[^"]*" height="[^"]*"`)
)

func (m *svgMarks) begin(c vg.Canvas, tag string) {
	m.open = append(m.open, tag)
	m.sentinel(c, markBeginX, len(m.open)-1)
}

func (m *svgMarks) end(c vg.Canvas) { m.sentinel(c, markEndX, 0) }

func (m *svgMarks) sentinel(c vg.Canvas, x, n int) {
	c.Fill(vg.Path{{Type: vg.MoveComp, Pos: vg.Point{X: vg.Length(x), Y: vg.Length(-n)}}})
}

// apply turns vgsvg's document into an inline element: no XML prolog, no fixed size
// (the viewBox stays, so it scales), fonts with fallbacks, the sentinels replaced by
// their groups, and title as its accessible name.
func (m *svgMarks) apply(doc, title string) string {
	if i := strings.Index(doc, "<svg"); i > 0 {
		doc = doc[i:]
	}
	doc = svgSizeRE.ReplaceAllLiteralString(doc,
		`<svg class="chart" role="img" aria-label="`+html.EscapeString(title)+`"`)
	doc = strings.ReplaceAll(doc, "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;")
	return markRE.ReplaceAllStringFunc(doc, func(s string) string {
		sub := markRE.FindStringSubmatch(s)
		if sub[1] == strconv.Itoa(markEndX) {
			return "</g>\n"
		}
		n, err := strconv.Atoi(strings.TrimPrefix(sub[2], "-"))
		if err != nil || n >= len(m.open) {
			return s
		}
		return m.open[n] + "\n"
	})
}
