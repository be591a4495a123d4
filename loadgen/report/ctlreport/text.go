package ctlreport

import (
	"fmt"
	"io"
	"slices"

	"github.com/larsgo/lars/loadgen/stats"
)

// WriteText writes a route service run as readable tables.
func (r *DNSReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "route service %s: %d agents x %d keys (%d of %d keys held, %s; %d subscriptions, at most %d on one key), %d hosts a route\n",
		r.Target, r.Agents, r.KeysPerAgent, r.DistinctKeys, r.KeySpace, r.Spread, r.Subscriptions, r.MaxSubscribers, r.HostsPerKey)
	c := r.Connections
	fmt.Fprintf(w, "setup %.2fs: %d connected, %d refused (%d could not connect), %d closed by the service, %d not ready\n",
		r.SetupS, c.Connected, c.Refused, c.DialErrors, c.ClosedByService, c.NotReady)
	ch := r.Changes
	fmt.Fprintf(w, "changes: %d committed in %.2fs (%.1f/s, target %.1f/s), %d failed, %d waits for a free key; drained in %.2fs",
		ch.Committed, r.DurationS, ch.Rate, r.TargetChangeRate, ch.Failed, ch.Deferred, r.DrainS)
	if r.Interrupted {
		fmt.Fprint(w, " (interrupted)")
	}
	fmt.Fprintln(w)
	if ch.FirstError != "" {
		fmt.Fprintf(w, "first failed write: %s\n", ch.FirstError)
	}
	p := r.Pushes
	fmt.Fprintf(w, "pushes: %d expected, %d received (%.0f/s), %d lost with closed connections, %d missing (loss %.4f%%); %d of %d changes reached every agent\n",
		p.Expected, p.Received, p.Rate, p.LostClosed, p.Missing, p.Loss()*100, p.CompleteChanges, ch.Committed)
	fmt.Fprintf(w, "frames: %d duplicate, %d stale, %d unexpected, %d malformed, %d before their commit returned; pulls %d sent, %d answered\n\n",
		p.Duplicates, p.Stale, p.Unexpected, p.Malformed, p.Early, r.Pulls.Sent, r.Pulls.Answered)
	tw := stats.NewTable(w)
	fmt.Fprintln(tw, "latency (ms)\tcount\tmin\tmean\tp50\tp90\tp99\tp99.9\tmax\t")
	latencyRow(tw, "push, every agent", p.LatencyMS)
	latencyRow(tw, "push, first agent", p.FirstMS)
	latencyRow(tw, "push, last agent", p.LastMS)
	latencyRow(tw, "pull", r.Pulls.LatencyMS)
	latencyRow(tw, "write (commit)", ch.WriteMS)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "push latency runs from the change's commit to the agent's read; the load generator used %.2fs of CPU over the changes\n", r.LoadgenCPUS)
	writeServiceFigures(w, r.Service)
	if v := r.SLO; v != nil {
		fmt.Fprintf(w, "objective %s: %s\n", v.Objective, v.Summary())
	}
	_, err := fmt.Fprintln(w)
	return err
}

func latencyRow(tw io.Writer, name string, l Latency) {
	fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, l.Count, ms(l.Min), ms(l.Mean), ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max))
}

// ms formats milliseconds with a precision that suits their size.
func ms(v float64) string { return stats.Decimals(v, 100, 1, 3) }

// writeServiceFigures writes a service's figures, one name=value a line, sorted.
func writeServiceFigures(w io.Writer, fig map[string]float64) {
	if len(fig) == 0 {
		return
	}
	names := make([]string, 0, len(fig))
	for k := range fig {
		names = append(names, k)
	}
	slices.Sort(names)
	fmt.Fprintln(w, "service's /metrics over the run (counters: increase; gauges: value at the end):")
	for _, k := range names {
		fmt.Fprintf(w, "  %s %g\n", k, fig[k])
	}
}

// WriteText writes a route service capacity search.
func (s *DNSSweepReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "route service capacity search over %s, objective %s, %.1fs of changes a step\n\n", s.Over, s.Objective, s.StepDurationS)
	tw := stats.NewTable(w)
	unit := "agents"
	if s.Over == SweepChanges {
		unit = "changes/s"
	}
	fmt.Fprintf(tw, "step (%s)\tagents\tchanges/s made\tsubscriptions\tpushes/s\tpush p50 ms\tpush p99 ms\tlast p99 ms\tloss %%\tclosed\t  verdict\n", unit)
	for _, st := range s.Steps {
		r := st.Report
		verdict := stats.StepVerdict(st.Met, st.Reason)
		fmt.Fprintf(tw, "%g\t%d\t%.1f\t%d\t%.0f\t%s\t%s\t%s\t%.4f\t%d\t  %s\n", st.Value, r.Agents, r.Changes.Rate, r.Subscriptions, r.Pushes.Rate,
			ms(r.Pushes.LatencyMS.P50), ms(r.Pushes.LatencyMS.P99), ms(r.Pushes.LastMS.P99), r.Pushes.Loss()*100,
			r.Connections.Refused+r.Connections.ClosedByService, verdict)
	}
	if s.Found {
		return stats.EndTable(tw, w, "\ncapacity: %g %s met the objective\n", s.Capacity, unit)
	}
	return stats.EndTable(tw, w, "\ncapacity: no step met the objective\n")
}

// WriteText writes a report service run as readable lines.
func (r *ReporterReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "report service %s: %d agents x %d keys x %d hosts (%d rows), target %.0f frames/s (%.0f results/s)\n",
		r.Target, r.Agents, r.KeysPerAgent, r.HostsPerKey, r.Rows, r.TargetRate, r.TargetRate*float64(r.HostsPerKey))
	s := r.Sent
	fmt.Fprintf(w, "sent in %.2fs: %d frames (%.0f/s), %d results (%.0f/s), %d bytes; %d rounds skipped; lag ms p50 %s p99 %s max %s",
		r.DurationS, s.Frames, s.FrameRate, s.Results, s.ResultRate, s.Bytes, s.SkippedRounds, ms(s.LagMS.P50), ms(s.LagMS.P99), ms(s.LagMS.Max))
	if r.Interrupted {
		fmt.Fprint(w, " (interrupted)")
	}
	fmt.Fprintln(w)
	c := r.Connections
	fmt.Fprintf(w, "connections: %d connected, %d refused, %d closed by the service; the load generator used %.2fs of CPU\n",
		c.Connected, c.Refused, c.ClosedByService, r.LoadgenCPUS)
	if sv := r.Service; sv != nil {
		fmt.Fprintf(w, "service: read %d frames, %d results (%.0f/s); wrote %d rows (%.0f/s); coalesced %d; dropped %d\n",
			sv.Frames, sv.Results, sv.ResultRate, sv.RowsWritten, sv.RowRate, sv.Coalesced, sv.Dropped)
	}
	if st := r.Store; st != nil {
		caught := fmt.Sprintf("caught up %.2fs after the sending", st.CatchUpS)
		if !st.CaughtUp {
			caught = fmt.Sprintf("NOT caught up %.2fs after the sending", st.CatchUpS)
		}
		fmt.Fprintf(w, "store: %d rows hold %d results (%.0f results/s written), %s", st.Rows, st.Results, st.ResultRate, caught)
		if st.Error != "" {
			fmt.Fprintf(w, "; %s", st.Error)
		}
		fmt.Fprintln(w)
	}
	if sv := r.Service; sv != nil {
		writeServiceFigures(w, sv.Figures)
	}
	verdict := "MET"
	if v := r.Verdict; v != nil && !v.Met {
		verdict = "MISSED: " + v.Reason
	}
	_, err := fmt.Fprintf(w, "objective every result taken, none dropped: %s\n\n", verdict)
	return err
}

// WriteText writes a report service capacity search.
func (s *ReporterSweepReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "report service capacity search, objective no drop, %.1fs a step\n\n", s.StepDurationS)
	tw := stats.NewTable(w)
	fmt.Fprintln(tw, "target frames/s\tsent frames/s\tresults/s\tservice rows/s\tstore results/s\tdropped\t  verdict")
	for _, st := range s.Steps {
		r := st.Report
		verdict := stats.StepVerdict(st.Met, st.Reason)
		rows, dropped, stored := "-", "-", "-"
		if sv := r.Service; sv != nil {
			rows, dropped = fmt.Sprintf("%.0f", sv.RowRate), fmt.Sprint(sv.Dropped)
		}
		if r.Store != nil {
			stored = fmt.Sprintf("%.0f", r.Store.ResultRate)
		}
		fmt.Fprintf(tw, "%.0f\t%.0f\t%.0f\t%s\t%s\t%s\t  %s\n", st.Rate, r.Sent.FrameRate, r.Sent.ResultRate, rows, stored, dropped, verdict)
	}
	if s.Found {
		return stats.EndTable(tw, w, "\ncapacity: %.0f frames/s (%.0f results/s) without a drop\n", s.Capacity, s.CapacityResults)
	}
	return stats.EndTable(tw, w, "\ncapacity: every step dropped\n")
}
