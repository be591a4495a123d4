package ctlplane

import (
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/larsgo/lars/loadgen/report"
	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
)

// RegisterCSVHeader is the header of a registration run's per-second series.
var RegisterCSVHeader = []string{"t_s", "span_s", "registered", "dropped", "expired", "renewed", "appeared", "gone",
	"register_p99_ms", "gone_p99_ms", "service_cpu_s", "service_lease_rows", "service_lease_statements"}

// WriteJSON writes the report as JSON.
func (r *RegisterReport) WriteJSON(w io.Writer) error { return report.WriteJSON(w, r) }

// WriteCSV writes the per-second series after RegisterCSVHeader.
func (r *RegisterReport) WriteCSV(w io.Writer) error {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	cw := csv.NewWriter(w)
	cw.Write(RegisterCSVHeader)
	for _, s := range r.Seconds {
		cw.Write([]string{f(s.T), f(s.Span), u(s.Registered), u(s.Dropped), u(s.Expired), u(s.Renewed), u(s.Appeared), u(s.Gone),
			f(s.RegisterP99MS), f(s.GoneP99MS), f(s.ServiceCPUS), f(s.ServiceLeaseRows), f(s.ServiceLeaseStatements)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteHTML writes the text report as a page.
func (r *RegisterReport) WriteHTML(w io.Writer) error {
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		return err
	}
	title := "lars-loadgen dns -mode register " + r.Target
	_, err := fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head><body>\n<h1>%s</h1>\n<pre>%s</pre>\n</body></html>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(b.String()))
	return err
}

// WriteText writes the report as readable lines and a table.
func (r *RegisterReport) WriteText(w io.Writer) error {
	c := r.Connections
	fmt.Fprintf(w, "registration at %s: %d agents x %d instances over %d keys, ttl %gs, %d subscribers holding every key; storm spread over %gs, warmup %gs\n",
		r.Target, r.Agents, r.InstancesPerAgent, r.Keys, r.TTLS, r.Subscribers, r.StormSpreadS, r.WarmupS)
	fmt.Fprintf(w, "setup %.2fs: %d agents and %d subscribers connected (%d ready), %d connection errors; closed by the service: %d agents, %d subscribers\n",
		r.SetupS, c.Agents, c.Subscribers, c.SubscribersReady, c.DialErrors, c.AgentsClosed, c.SubscribersClosed)
	st := r.Storm
	fmt.Fprintf(w, "storm: %d registrations, %d answered, %d accepted; all accepted in %.3fs (%.0f/s), all answered in %.3fs; all at every subscriber in %.3fs",
		st.Instances, st.Answered, st.Accepted, st.AcceptedS, st.AcceptRate, st.AllAnsweredS, st.AllPushedS)
	if !st.Complete {
		fmt.Fprintf(w, " (incomplete: %d sights missing)", st.Missing)
	}
	fmt.Fprintln(w)
	sd := r.Steady
	fmt.Fprintf(w, "steady %.1fs (churn %g/s, expiry %g/s): %d registered, %d dropped, %d left to expire, %d replacements skipped; drained in %.2fs",
		sd.DurationS, r.ChurnPerSec, r.ExpirePerSec, sd.Registered, sd.Dropped, sd.Expired, sd.Skipped, r.DrainS)
	if r.Interrupted {
		fmt.Fprint(w, " (interrupted)")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "missing sights: register %d, drop %d, expiry %d; removals before the lease's end %d (earliest %.1fms)\n",
		sd.MissingRegister, sd.MissingDrop, sd.MissingExpiry, sd.ExpiredEarly, sd.EarliestMS)
	var res []string
	for _, x := range r.Results {
		res = append(res, fmt.Sprintf("%s %s %d", x.Op, x.Status, x.Count))
	}
	fmt.Fprintf(w, "results: %s; renewals %d entries in %d frames\n", strings.Join(res, ", "), r.Renewals.Entries, r.Renewals.Frames)
	a := r.Anomalies
	fmt.Fprintf(w, "anomalies: %d removed while renewed, %d reappeared (%d after their end), %d unasked removals, %d replies matching no frame (%d out of order), %d malformed, %d unexpected, %d write errors\n\n",
		a.RemovedWhileKept, a.Reappeared, a.ReappearedEnded, a.UnaskedRemoved, a.ReplyMismatch, a.OutOfOrder, a.Malformed, a.Unexpected, a.WriteErrors)
	tw := stats.NewTable(w)
	fmt.Fprintln(tw, "latency (ms)\tcount\tmin\tmean\tp50\tp90\tp99\tp99.9\tmax\t")
	row := func(name string, l ctlreport.Latency) {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, l.Count, regMS(l.Min), regMS(l.Mean), regMS(l.P50), regMS(l.P90), regMS(l.P99), regMS(l.P999), regMS(l.Max))
	}
	row("register->push, storm", st.RegisterMS)
	row("register->push, steady", sd.RegisterMS)
	row("drop->push", sd.DropMS)
	row("expiry->push", sd.ExpiryMS)
	row("lease reply", r.ReplyMS)
	row("lease frame write", r.WriteMS)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "each latency is one (instance, subscriber); the load generator used %.2fs of CPU over the steady phase and the drain\n", r.LoadgenCPUS)
	if db := r.DB; db != nil {
		fmt.Fprintf(w, "database writes for leases over the steady phase: %.1f rows/s in %.2f statements/s (rows by kind %s; statements %s); the service used %.1f%% of a core\n",
			db.RowsPerS, db.StatementsPerS, kinds(db.RowsByKind), kinds(db.StmtsByKind), db.ServiceCPU*100)
	}
	writeRegService(w, r)
	if p := r.Problems(); len(p) > 0 {
		fmt.Fprintf(w, "verdict: problems: %s\n", strings.Join(p, ", "))
	} else {
		fmt.Fprintln(w, "verdict: every registration, drop and expiry answered OK and seen by every subscriber")
	}
	_, err := fmt.Fprintln(w)
	return err
}

// writeRegService writes the service's figures over the steady phase, counters with
// their rate a second.
func writeRegService(w io.Writer, r *RegisterReport) {
	if len(r.Service) == 0 {
		return
	}
	names := make([]string, 0, len(r.Service))
	for k := range r.Service {
		names = append(names, k)
	}
	slices.Sort(names)
	fmt.Fprintln(w, "service's /metrics over the steady phase (counters: increase, and a second; gauges: value at its end):")
	for _, k := range names {
		if rate, ok := r.ServiceRates[k]; ok {
			fmt.Fprintf(w, "  %s %g (%.2f/s)\n", k, r.Service[k], rate)
		} else {
			fmt.Fprintf(w, "  %s %g\n", k, r.Service[k])
		}
	}
}

// regMS formats milliseconds with a precision that suits their size.
func regMS(v float64) string { return stats.Decimals(v, 100, 1, 3) }

// kinds writes a map of figures a second as "kind rate" pairs, sorted.
func kinds(m map[string]float64) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	var b []string
	for _, k := range names {
		b = append(b, fmt.Sprintf("%s %.2f", k, m[k]))
	}
	return strings.Join(b, ", ")
}
