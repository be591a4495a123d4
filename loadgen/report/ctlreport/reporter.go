package ctlreport

import (
	"fmt"
	"strings"
	"time"
)

// ReporterSchemaVersion names the JSON form of ReporterReport.
const ReporterSchemaVersion = "lars-loadgen-reporter/1"

// sendShortfall is the share of the target rate under which a run did not send what
// it was asked to: the service pushed back (TCP) or the load generator fell behind.
const sendShortfall = 0.9

// ReporterReport is the result of a report service run, and its -json output
// (SCHEMA.md). Sent.Frames == Sent.Results / HostsPerKey; with a store that caught up
// and no drop, Store.Results == Sent.Results.
type ReporterReport struct {
	Schema string    `json:"schema"`
	Target string    `json:"target"`
	Start  time.Time `json:"start"`
	// Agents, KeysPerAgent and HostsPerKey shape the load: each agent reports its keys
	// in rounds, one frame per key with one result per host.
	Agents       int `json:"agents"`
	KeysPerAgent int `json:"keys_per_agent"`
	HostsPerKey  int `json:"hosts_per_key"`
	// Rows is the distinct ServerCallStatus rows the run writes: agents x keys x hosts.
	Rows int `json:"rows"`
	// TargetRate is the intended frames (ReportStatusRequests) per second.
	TargetRate float64 `json:"target_rate"`
	// ScheduleS is the intended span of the sending (the configured duration; 0 when
	// only a count of reports bounds the run), in seconds.
	ScheduleS float64 `json:"schedule_s"`
	// DurationS is the actual span of the sending, in seconds: longer than ScheduleS
	// when the senders fell behind and caught up (see Sent.LagMS).
	DurationS float64 `json:"duration_s"`
	// SettleS is how long the run then waited for the store and the service's queue.
	SettleS float64 `json:"settle_s"`
	// LoadgenCPUS is the CPU time the load generator used over the sending and the
	// settling, in seconds (the store counts included).
	LoadgenCPUS float64 `json:"loadgen_cpu_s"`
	Interrupted bool    `json:"interrupted"`

	Sent        ReporterSent        `json:"sent"`
	Connections ReporterConnections `json:"connections"`
	// Service is the report service's figures from /metrics (with an admin URL).
	Service *ReporterService `json:"service,omitempty"`
	// Store is what the store holds (with a store).
	Store *ReporterStore `json:"store,omitempty"`
	// Seconds is the per-second series of the sending and the settling.
	Seconds []ReporterSecond `json:"seconds"`
	// Verdict says whether the service took every result without a drop.
	Verdict *ReporterVerdict `json:"verdict"`
}

// ReporterSent is what the agents wrote.
type ReporterSent struct {
	Frames  uint64 `json:"frames"`
	Results uint64 `json:"results"`
	Bytes   uint64 `json:"bytes"`
	// FrameRate and ResultRate are per second of DurationS.
	FrameRate  float64 `json:"frame_rate"`
	ResultRate float64 `json:"result_rate"`
	// SkippedRounds counts rounds not sent because the agent's connection had failed.
	SkippedRounds uint64 `json:"skipped_rounds"`
	// LagMS is how late each round was written against its schedule (histogram).
	LagMS Latency `json:"lag_ms"`
}

// ReporterConnections counts the agents' connections.
type ReporterConnections struct {
	Connected int `json:"connected"`
	// Refused is the connections that could not be opened.
	Refused uint64 `json:"refused"`
	// ClosedByService is the connections a write to failed: the service closed them
	// (over its limit, a restart) or stopped reading for 5 s.
	ClosedByService uint64 `json:"closed_by_service"`
}

// ReporterService is the report service's figures over the run, from /metrics.
type ReporterService struct {
	// Frames and Results are those the service read (lars_reporter_frames_total,
	// _results_total); RowsWritten, the rows it upserted; Dropped, the rows it
	// dropped for any reason; Coalesced, the results that replaced a queued row.
	Frames      uint64 `json:"frames"`
	Results     uint64 `json:"results"`
	RowsWritten uint64 `json:"rows_written"`
	Dropped     uint64 `json:"dropped"`
	Coalesced   uint64 `json:"coalesced"`
	// ResultRate and RowRate are Results and RowsWritten per second of DurationS.
	ResultRate float64 `json:"result_rate"`
	RowRate    float64 `json:"row_rate"`
	// Figures are every lars_reporter_ and process series: counters as their
	// increase, gauges as their value at the end.
	Figures map[string]float64 `json:"figures"`
}

// ReporterStore is what the store holds of the run's results.
type ReporterStore struct {
	// Rows is the run's rows in ServerCallStatus.
	Rows uint64 `json:"rows"`
	// Results is the results those rows hold (a result coalesced into a newer one is
	// held by it).
	Results uint64 `json:"results"`
	// ResultRate is Results per second of DurationS + SettleS: the results per second
	// written, as the store counts them.
	ResultRate float64 `json:"result_rate"`
	// CaughtUp is true when the store held every result sent within the settle time;
	// CatchUpS is how long after the sending that took (or the settle time).
	CaughtUp bool    `json:"caught_up"`
	CatchUpS float64 `json:"catch_up_s"`
	Error    string  `json:"error,omitempty"`
}

// ReporterVerdict is the report service's objective: every result taken, none dropped.
type ReporterVerdict struct {
	Met    bool   `json:"met"`
	Reason string `json:"reason,omitempty"`
}

// ReporterSecond is one second of the series; counts are events of the interval.
type ReporterSecond struct {
	T          float64 `json:"t_s"`
	Span       float64 `json:"span_s"`
	Frames     uint64  `json:"frames"`
	Results    uint64  `json:"results"`
	ResultRate float64 `json:"result_rate"`
	// The service's figures (with an admin URL; -1 when the read failed): results
	// read, rows written and dropped in the interval, rows queued at its end.
	ServiceResults float64 `json:"service_results,omitempty"`
	ServiceRows    float64 `json:"service_rows,omitempty"`
	ServiceDropped float64 `json:"service_dropped,omitempty"`
	QueueRows      float64 `json:"queue_rows,omitempty"`
	// StoreResults is the results the store gained (with a store; -1 when the count
	// failed).
	StoreResults float64 `json:"store_results,omitempty"`
}

// CheckReporter judges a report service run: nothing dropped by the service, every result in the
// store within the settle time, no connection refused or closed, and at least 90% of
// the frames the schedule called for sent.
func CheckReporter(rep *ReporterReport) *ReporterVerdict {
	var reasons []string
	if s := rep.Service; s != nil {
		if _, bad := s.Figures["scrape_error"]; bad {
			reasons = append(reasons, "the service's /metrics could not be read")
		}
		if s.Dropped > 0 {
			reasons = append(reasons, fmt.Sprintf("the service dropped %d rows", s.Dropped))
		}
	}
	if st := rep.Store; st != nil && !st.CaughtUp {
		reasons = append(reasons, fmt.Sprintf("the store held %d of %d results %.1fs after the sending", st.Results, rep.Sent.Results, st.CatchUpS))
	}
	if n := rep.Connections.Refused + rep.Connections.ClosedByService; n > 0 {
		reasons = append(reasons, fmt.Sprintf("%d connections refused or closed by the service", n))
	}
	due := rep.TargetRate * rep.ScheduleS
	if rep.Sent.Frames == 0 {
		reasons = append(reasons, "nothing sent")
	} else if float64(rep.Sent.Frames) < sendShortfall*due && !rep.Interrupted {
		reasons = append(reasons, fmt.Sprintf("sent only %d of the %.0f frames due", rep.Sent.Frames, due))
	}
	return &ReporterVerdict{Met: len(reasons) == 0, Reason: strings.Join(reasons, ", ")}
}
