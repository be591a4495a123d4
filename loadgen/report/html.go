package report

import (
	"bytes"
	"fmt"
	"html"
	"image/color"
	"io"
	"slices"
	"strings"

	"github.com/larsgo/lars/loadgen/stats"
)

// WriteHTML writes a self-contained page (inline SVG drawn with gonum.org/v1/plot, no
// script, no link: it reads offline) for a run: the verdict, the table by request type,
// latency by percentile, requests and answers per second from zero with the target
// rate, latency per second on a log axis, and the full text report.
func (r *Report) WriteHTML(w io.Writer) error {
	var p page
	p.start("Lars load test")
	p.runSummary(r)
	p.typeTable(r)
	for _, f := range runFigures(r) {
		if err := p.figure(&f); err != nil {
			return err
		}
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		return err
	}
	p.details("The text report", text.String())
	return p.finish(w)
}

// WriteHTML writes a self-contained page for a capacity search: the capacity found,
// latency per step against the objective (log axis, one point per step coloured by
// verdict, the capacity marked), the achieved share of the target and the loss per step
// with the loss bound, and the table of steps.
func (s *SweepReport) WriteHTML(w io.Writer) error {
	var p page
	p.start("Lars capacity search")
	p.sweepSummary(s)
	for _, f := range sweepFigures(s) {
		if err := p.figure(&f); err != nil {
			return err
		}
	}
	p.stepsTable(s)
	var text bytes.Buffer
	judged := *s // the text report needs every step's report; a damaged file may lack one
	judged.Steps = slices.DeleteFunc(slices.Clone(s.Steps), func(st SweepStep) bool { return st.Report == nil })
	if err := judged.WriteText(&text); err != nil {
		return err
	}
	p.details("The text report", text.String())
	return p.finish(w)
}

// page builds an HTML page.
type page struct{ b strings.Builder }

const pageStyle = `body{font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;color:#222;max-width:1280px;margin:0 auto;padding:1.2em 2em}
h1{font-size:1.6em;margin:.3em 0 .5em}h2{font-size:1.2em;margin:1.4em 0 .2em}
.verdict{font-size:1.1em;padding:.5em .8em;border-left:6px solid #999;background:#f4f4f4;margin:.6em 0}
.verdict.met{border-color:#1a9e3a;background:#edf7ef}.verdict.missed{border-color:#d62728;background:#fcecec}
.facts{color:#444;margin:.3em 0}
figure{margin:.8em 0 1.6em}figure h2{margin-top:0}svg.chart{display:block;width:100%;height:auto}
figcaption{color:#555;font-size:.92em;margin-top:.2em}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:.95em;margin:.5em 0}
th,td{padding:.25em .7em;text-align:right;border-bottom:1px solid #e2e2e2}th{background:#f4f4f4;white-space:nowrap}
th:first-child,td:first-child,#steps th:last-child{text-align:left}
tr.missed td{color:#b3191b}tr.limited td{color:#888}td.worse{color:#b3191b;font-weight:bold}td.better{color:#137a2c}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:50%;margin-right:.35em;vertical-align:-.05em}
pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:.85em}details{margin:1.5em 0}`

func (p *page) start(title string) {
	t := html.EscapeString(title)
	fmt.Fprintf(&p.b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>\n%s\n</style>\n</head><body>\n<h1>%s</h1>\n", t, pageStyle, t)
}

func (p *page) finish(w io.Writer) error {
	p.b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, p.b.String())
	return err
}

// raw writes HTML as is; printf formats it, escaping every string argument.
func (p *page) raw(s string) { p.b.WriteString(s) }

func (p *page) printf(format string, args ...any) {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = html.EscapeString(s)
		}
	}
	fmt.Fprintf(&p.b, format, args...)
}

// verdict writes the page's answer in one highlighted line; class is met, missed or "".
func (p *page) verdict(class, format string, args ...any) {
	p.printf(`<p class="verdict `+class+`" id="verdict">`+format+"</p>\n", args...)
}

func (p *page) figure(f *chartFigure) error {
	svg, err := renderFigure(f)
	if err != nil {
		return err
	}
	p.printf(`<figure id="%s"><h2>%s</h2>`+"\n", f.id, f.title)
	p.raw(svg)
	p.printf("<figcaption>%s</figcaption></figure>\n", f.caption)
	return nil
}

func (p *page) details(summary, text string) {
	p.printf("<details><summary>%s</summary>\n<pre>%s</pre></details>\n", summary, text)
}

// runMode describes a run's load in words.
func runMode(r *Report) string {
	if r.Mode == "open" {
		return fmt.Sprintf("open loop at %.0f requests/s", r.TargetRate)
	}
	return fmt.Sprintf("closed loop, %d in flight", r.Concurrency)
}

func (p *page) runSummary(r *Report) {
	l := r.LatencyUS
	if s := r.SLO; s != nil {
		if s.Met {
			p.verdict("met", "Objective %s: met.", s.Objective)
		} else {
			p.verdict("missed", "Objective %s: missed (%s).", s.Objective, s.Reason)
		}
	}
	interrupted := ""
	if r.Interrupted {
		interrupted = " (interrupted)"
	}
	p.printf(`<p class="facts">%s, %.2f s measured after %.2f s warm-up%s: <strong>%.0f answers/s</strong>, p50 %s, p99 <strong>%s</strong>, p99.9 %s, loss %s (%d of %d).</p>`+"\n",
		runMode(r), r.DurationS, r.WarmupS, interrupted, r.Rate, fmtLatency(l.P50), fmtLatency(l.P99), fmtLatency(l.P999), fmtPercent(r.Loss), r.Timeouts, r.Sent)
}

// typeTable is the figures by request type.
func (p *page) typeTable(r *Report) {
	p.raw("<h2>By request type</h2>\n<table id=\"by-type\"><thead><tr><th>type</th><th>sent</th><th>received</th><th>timeouts</th><th>per second</th>" +
		"<th>min</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>p99.99</th><th>max</th></tr></thead><tbody>\n")
	row := func(name string, t TypeStats) {
		l := t.LatencyUS
		p.printf(`<tr data-type="%s"><td>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%.0f</td>`, name, name, t.Sent, t.Received, t.Timeouts, t.Rate)
		if t.Received == 0 {
			p.raw(strings.Repeat("<td>–</td>", 8) + "</tr>\n")
			return
		}
		p.printf("<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			fmtLatency(l.Min), fmtLatency(l.Mean), fmtLatency(l.P50), fmtLatency(l.P90), fmtLatency(l.P99), fmtLatency(l.P999), fmtLatency(l.P9999), fmtLatency(l.Max))
	}
	row("get_host", r.ByType.GetHost)
	row("get_route", r.ByType.GetRoute)
	p.printf(`<tr data-type="report"><td>report</td><td>%d</td><td>–</td><td>–</td><td>%.0f</td>`+strings.Repeat("<td></td>", 8)+"</tr>\n", r.ByType.Report.Sent, r.ByType.Report.Rate)
	row("all", TypeStats{Sent: r.Sent, Received: r.Received, Timeouts: r.Timeouts, Rate: r.Rate, LatencyUS: r.LatencyUS})
	p.raw("</tbody></table>\n")
	rc := r.Retcodes
	p.printf(`<p class="facts">get_host retcodes: succ %d, overload %d, system_error %d, noexist %d, other %d. Latency from each request's intended send time.</p>`+"\n",
		rc.Succ, rc.Overload, rc.SystemError, rc.NoExist, rc.Other)
}

func (p *page) sweepSummary(s *SweepReport) {
	if s.Found {
		p.verdict("met", "Capacity: <strong>%.0f requests/s</strong> met the objective %s (%.0f answers/s).", s.Capacity, s.Objective, s.CapacityAnswers)
	} else {
		p.verdict("missed", "No step met the objective %s.", s.Objective)
	}
	interrupted := ""
	if s.Interrupted {
		interrupted = " The search was interrupted."
	}
	mode := ""
	if len(s.Steps) > 0 && s.Steps[0].Report != nil {
		mode = fmt.Sprintf(", open loop, %.2f s warm-up each", s.Steps[0].Report.WarmupS)
	}
	p.printf(`<p class="facts">%d steps of %.2f s%s.%s</p>`+"\n", len(s.Steps), s.StepDurationS, mode, interrupted)
}

// stepsTable lists the steps in the order they ran.
func (p *page) stepsTable(s *SweepReport) {
	p.raw("<h2>Steps, in the order run</h2>\n<table id=\"steps\"><thead><tr><th>step</th><th>target/s</th><th>answers/s</th><th>of target</th>" +
		"<th>p50</th><th>p99</th><th>p99.9</th><th>loss</th><th>verdict</th></tr></thead><tbody>\n")
	for i, st := range s.Steps {
		r := st.Report
		if r == nil {
			continue
		}
		v := stepVerdict(st)
		name := fmt.Sprint(i + 1)
		if st.Attempt > 0 {
			name += fmt.Sprintf(" (retry %d)", st.Attempt)
		}
		verdict := stats.StepVerdict(st.Met, st.Reason)
		p.printf(`<tr class="%s"><td>%s</td><td>%.0f</td><td>%.0f</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td style="text-align:left"><span class="swatch" style="background:%s"></span>%s</td></tr>`+"\n",
			v, name, st.TargetRate, r.Rate, fmtPercent(achievedRatio(r)), fmtLatency(r.LatencyUS.P50), fmtLatency(r.LatencyUS.P99), fmtLatency(r.LatencyUS.P999),
			fmtPercent(r.Loss), cssColor(verdictColor(v)), verdict)
	}
	p.raw("</tbody></table>\n")
}

// cssColor writes a colour as #rrggbb.
func cssColor(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}
