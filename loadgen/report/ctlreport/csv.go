package ctlreport

import (
	"encoding/csv"
	"io"
	"strconv"
)

// Headers of the CSV forms: the per-second series of a run, one line per step of a
// search.
var (
	DNSCSVHeader = []string{"t_s", "span_s", "changes", "pushes", "push_rate", "p50_ms", "p99_ms", "max_ms",
		"closed", "service_pushes", "service_cpu_s"}
	DNSSweepCSVHeader = []string{"value", "agents", "change_rate", "subscriptions", "push_rate", "push_p50_ms", "push_p99_ms",
		"last_p99_ms", "loss", "closed", "met"}
	ReporterCSVHeader = []string{"t_s", "span_s", "frames", "results", "result_rate", "service_results",
		"service_rows", "service_dropped", "queue_rows", "store_results"}
	ReporterSweepCSVHeader = []string{"target_rate", "frame_rate", "result_rate", "service_row_rate",
		"store_result_rate", "dropped", "met"}
)

func fmtF(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
func fmtU(v uint64) string  { return strconv.FormatUint(v, 10) }

// writeCSV writes header, then one line per row.
func writeCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// WriteCSV writes a route service run's per-second series after DNSCSVHeader.
func (r *DNSReport) WriteCSV(w io.Writer) error {
	var rows [][]string
	for _, s := range r.Seconds {
		rows = append(rows, []string{fmtF(s.T), fmtF(s.Span), fmtU(s.Changes), fmtU(s.Pushes), fmtF(s.PushRate),
			fmtF(s.P50MS), fmtF(s.P99MS), fmtF(s.MaxMS), fmtU(s.Closed), fmtF(s.ServicePushes), fmtF(s.ServiceCPUS)})
	}
	return writeCSV(w, DNSCSVHeader, rows)
}

// WriteCSV writes one line per step of a route service search after
// DNSSweepCSVHeader.
func (s *DNSSweepReport) WriteCSV(w io.Writer) error {
	var rows [][]string
	for _, st := range s.Steps {
		r := st.Report
		rows = append(rows, []string{strconv.FormatFloat(st.Value, 'g', -1, 64), strconv.Itoa(r.Agents), fmtF(r.Changes.Rate), strconv.Itoa(r.Subscriptions),
			fmtF(r.Pushes.Rate), fmtF(r.Pushes.LatencyMS.P50), fmtF(r.Pushes.LatencyMS.P99), fmtF(r.Pushes.LastMS.P99),
			strconv.FormatFloat(r.Pushes.Loss(), 'g', 6, 64), fmtU(r.Connections.Refused + r.Connections.ClosedByService),
			strconv.FormatBool(st.Met)})
	}
	return writeCSV(w, DNSSweepCSVHeader, rows)
}

// WriteCSV writes a report service run's per-second series after
// ReporterCSVHeader.
func (r *ReporterReport) WriteCSV(w io.Writer) error {
	var rows [][]string
	for _, s := range r.Seconds {
		rows = append(rows, []string{fmtF(s.T), fmtF(s.Span), fmtU(s.Frames), fmtU(s.Results), fmtF(s.ResultRate),
			fmtF(s.ServiceResults), fmtF(s.ServiceRows), fmtF(s.ServiceDropped), fmtF(s.QueueRows), fmtF(s.StoreResults)})
	}
	return writeCSV(w, ReporterCSVHeader, rows)
}

// WriteCSV writes one line per step of a report service search after
// ReporterSweepCSVHeader.
func (s *ReporterSweepReport) WriteCSV(w io.Writer) error {
	var rows [][]string
	for _, st := range s.Steps {
		r := st.Report
		rowRate, dropped, stored := "", "", ""
		if sv := r.Service; sv != nil {
			rowRate, dropped = fmtF(sv.RowRate), fmtU(sv.Dropped)
		}
		if r.Store != nil {
			stored = fmtF(r.Store.ResultRate)
		}
		rows = append(rows, []string{fmtF(st.Rate), fmtF(r.Sent.FrameRate), fmtF(r.Sent.ResultRate), rowRate, stored,
			dropped, strconv.FormatBool(st.Met)})
	}
	return writeCSV(w, ReporterSweepCSVHeader, rows)
}
