package report

import "image/color"

// Colours of the HTML charts. Verdicts are green (met), red (missed) and grey (the load
// generator could not send the rate: the step says nothing); the two sides of a
// comparison are blue (A) and orange (B); reference lines (objectives, bounds, targets)
// are purple and the capacity found is blue.
var (
	colorMet      = color.RGBA{R: 0x1a, G: 0x9e, B: 0x3a, A: 0xff}
	colorMissed   = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colorLimited  = color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}
	colorA        = color.RGBA{R: 0x1f, G: 0x6f, B: 0xb4, A: 0xff}
	colorB        = color.RGBA{R: 0xf0, G: 0x7c, B: 0x0e, A: 0xff}
	colorCurve    = color.RGBA{R: 0x70, G: 0x70, B: 0x70, A: 0xff}
	colorRef      = color.RGBA{R: 0x7b, G: 0x2d, B: 0x8e, A: 0xff}
	colorCapacity = color.RGBA{R: 0x1f, G: 0x6f, B: 0xb4, A: 0xff}
	colorGrid     = color.RGBA{R: 0xe6, G: 0xe6, B: 0xe6, A: 0xff}
	colorLabelBg  = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xe0}
)

// Colours of the run charts' series: p50, p99 and p99.9 (and received, sent).
var (
	colorP50  = color.RGBA{R: 0x1f, G: 0x6f, B: 0xb4, A: 0xff}
	colorP99  = color.RGBA{R: 0xe6, G: 0x55, B: 0x0d, A: 0xff}
	colorP999 = color.RGBA{R: 0x75, G: 0x6b, B: 0xb1, A: 0xff}
	colorSent = color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}
)
