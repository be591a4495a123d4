package report

import (
	"encoding/csv"
	"io"
	"strconv"
)

// CSVHeader is the first line Report.WriteCSV writes; its columns are the fields of Second.
var CSVHeader = []string{"t_s", "span_s", "sent", "received", "timeouts", "late", "duplicates",
	"malformed", "refused", "rate", "p50_us", "p99_us", "p999_us", "max_us"}

// WriteCSV writes the run's per-second series, one line per Second after CSVHeader.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	for _, s := range r.Seconds {
		if err := cw.Write([]string{f(s.T), f(s.Span), u(s.Sent), u(s.Received), u(s.Timeouts), u(s.Late),
			u(s.Duplicates), u(s.Malformed), u(s.Refused), f(s.Rate), f(s.P50US), f(s.P99US), f(s.P999US), f(s.MaxUS)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SweepCSVHeader is the first line SweepReport.WriteCSV writes.
var SweepCSVHeader = []string{"target_rate", "achieved_rate", "send_rate", "p50_us", "p99_us", "p999_us", "loss", "met"}

// WriteCSV writes one line per step of a capacity search after SweepCSVHeader.
func (s *SweepReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(SweepCSVHeader); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	for _, st := range s.Steps {
		r := st.Report
		if err := cw.Write([]string{f(st.TargetRate), f(r.Rate), f(r.SendRate), f(r.LatencyUS.P50), f(r.LatencyUS.P99),
			f(r.LatencyUS.P999), strconv.FormatFloat(r.Loss, 'g', 6, 64), strconv.FormatBool(st.Met)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
