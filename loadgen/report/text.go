package report

import (
	"fmt"
	"io"

	"github.com/larsgo/lars/loadgen/stats"
)

// WriteText writes the report as readable tables.
func (r *Report) WriteText(w io.Writer) error {
	tw := stats.NewTable(w)
	mode := fmt.Sprintf("closed loop, %d in flight", r.Concurrency)
	if r.Mode == "open" {
		mode = fmt.Sprintf("open loop at %.0f/s", r.TargetRate)
	}
	fmt.Fprintf(w, "%s, %.2fs measured after %.2fs warm-up", mode, r.DurationS, r.WarmupS)
	if r.Interrupted {
		fmt.Fprint(w, " (interrupted)")
	}
	fmt.Fprintf(w, "\nsent %d, received %d, timeouts %d (loss %.4f%%), %.0f answers/s, %d reports\n\n",
		r.Sent, r.Received, r.Timeouts, r.Loss*100, r.Rate, r.ReportsSent)

	fmt.Fprintln(tw, "type\tsent\treceived\ttimeouts\trate/s\tmin\tmean\tstddev\tp50\tp90\tp99\tp99.9\tp99.99\tmax\t")
	row := func(name string, ts TypeStats) {
		l := ts.LatencyUS
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, ts.Sent, ts.Received, ts.Timeouts, ts.Rate,
			us(l.Min), us(l.Mean), us(l.Stddev), us(l.P50), us(l.P90), us(l.P99), us(l.P999), us(l.P9999), us(l.Max))
	}
	row("get_host", r.ByType.GetHost)
	row("get_route", r.ByType.GetRoute)
	row("all", TypeStats{Sent: r.Sent, Received: r.Received, Timeouts: r.Timeouts, Rate: r.Rate, LatencyUS: r.LatencyUS})
	fmt.Fprintf(tw, "report\t%d\t-\t-\t%.0f\t\t\t\t\t\t\t\t\t\t\n", r.ReportsSent, r.ByType.Report.Rate)
	if err := tw.Flush(); err != nil {
		return err
	}
	exact := "exact"
	if !r.LatencyUS.Exact {
		exact = "from a histogram, within 0.4%"
	}
	fmt.Fprintf(w, "latencies in microseconds from the intended send time (%s)\n\n", exact)
	rc := r.Retcodes
	fmt.Fprintf(w, "get_host retcodes: succ %d, overload %d, system_error %d, noexist %d, other %d\n", rc.Succ, rc.Overload, rc.SystemError, rc.NoExist, rc.Other)
	fmt.Fprintf(w, "answers: late %d, duplicate %d, malformed %d, wrong key %d; refused (ICMP) %d; send errors %d; waits for a slot %d\n",
		r.Late, r.Duplicates, r.Malformed, r.WrongKey, r.Refused, r.SendErrors, r.RingFull)
	fmt.Fprintf(w, "send lag: p50 %s, p99 %s, max %s us\n", us(r.SendLagUS.P50), us(r.SendLagUS.P99), us(r.SendLagUS.Max))
	if s := r.SLO; s != nil {
		fmt.Fprintf(w, "objective %s: %s\n", s.Objective, s.Summary())
	}
	_, err := fmt.Fprintln(w)
	return err
}

// us formats microseconds with a precision that suits their size.
func us(v float64) string { return stats.Decimals(v, 1000, 10, 2) }
