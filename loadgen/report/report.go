package report

import (
	"time"

	"github.com/larsgo/lars/loadgen/stats"
)

// SchemaVersion names the JSON form of Report; it changes only when a field changes
// meaning or goes away (new fields may be added).
const SchemaVersion = "lars-loadgen/1"

// Report is the result of one run. It is also the -json output, whose schema
// SCHEMA.md documents field by field. Every count covers the measured phase only:
// requests whose intended send time falls after the warm-up, and their answers.
//
// The figures add up exactly, for each answered type and for the whole:
//
//	Sent == Received + Timeouts
//	Retcodes.Succ + Overload + SystemError + NoExist + Other == ByType.GetHost.Received
//
// Late, Duplicates, Malformed, WrongKey and Refused count extra datagrams or events,
// not requests: a request that timed out may also have a late answer.
type Report struct {
	// Schema is SchemaVersion.
	Schema string `json:"schema"`
	// Mode is "open" (constant arrival rate) or "closed" (fixed concurrency).
	Mode string `json:"mode"`
	// TargetRate is the open loop's intended rate in requests per second (all types);
	// 0 in a closed loop.
	TargetRate float64 `json:"target_rate"`
	// Concurrency is the closed loop's number of requests in flight; 0 in an open loop.
	Concurrency int `json:"concurrency"`
	// Start is when the run started (the warm-up included).
	Start time.Time `json:"start"`
	// WarmupS is the warm-up excluded from every figure, in seconds.
	WarmupS float64 `json:"warmup_s"`
	// DurationS is the measured span in seconds: from the end of the warm-up to the
	// intended send time of the last request (the wait for the last answers excluded).
	DurationS float64 `json:"duration_s"`
	// Interrupted is true when the run was cut short (SIGINT): the report covers what
	// was sent until then.
	Interrupted bool `json:"interrupted"`

	// Sent is the number of get_host and get_route requests sent (reports excluded:
	// see ReportsSent). Every one ends either received or timed out.
	Sent uint64 `json:"sent"`
	// Received is the number of requests whose first answer came within the timeout.
	Received uint64 `json:"received"`
	// Timeouts is the number of requests with no answer within the timeout (lost,
	// late, or refused).
	Timeouts uint64 `json:"timeouts"`
	// Rate is Received per second of DurationS: the answers per second achieved.
	Rate float64 `json:"rate"`
	// SendRate is every request sent, reports included, per second of DurationS.
	SendRate float64 `json:"send_rate"`
	// Loss is Timeouts / Sent (0 when nothing was sent).
	Loss float64 `json:"loss"`
	// ReportsSent is the number of report datagrams sent (no answer is expected), those
	// of the mix and those sent after get_host answers.
	ReportsSent uint64 `json:"reports_sent"`
	// Late counts answers that arrived after their request's timeout (or, for
	// get_route, that match no outstanding request of their key but a timed-out one).
	Late uint64 `json:"late"`
	// Duplicates counts second and later answers to an answered request.
	Duplicates uint64 `json:"duplicates"`
	// Malformed counts datagrams that are not a valid answer: bad frame, bad body,
	// unexpected message id, or an answer that matches no request ever sent.
	Malformed uint64 `json:"malformed"`
	// WrongKey counts get_host answers whose seq is outstanding but for another key;
	// the request stays outstanding.
	WrongKey uint64 `json:"wrong_key"`
	// Refused counts ICMP refusals (ECONNREFUSED) reported by the sockets: nothing was
	// listening on a port.
	Refused uint64 `json:"refused"`
	// SendErrors counts datagrams the kernel did not send (they are in Sent and end
	// as timeouts), reports included.
	SendErrors uint64 `json:"send_errors"`
	// RingFull counts the times a request had to wait for a free slot because too
	// many were outstanding on its socket; the wait counts in its latency.
	RingFull uint64 `json:"ring_full"`

	// LatencyUS is the latency of every received get_host and get_route answer, in
	// microseconds: from the request's intended send time (the actual send time in a
	// closed loop) to the answer's arrival.
	LatencyUS Latency `json:"latency_us"`
	// Retcodes counts the get_host answers by retcode; they sum to
	// ByType.GetHost.Received.
	Retcodes Retcodes `json:"retcodes"`
	// ByType breaks the figures down by request type.
	ByType ByType `json:"by_type"`
	// SendLagUS is how late the load generator sent its batches, in microseconds:
	// actual send time minus the intended time of a batch's first request, one value a
	// batch. A large lag means the load generator itself could not keep the pace.
	SendLagUS Lag `json:"send_lag_us"`
	// Histogram is the distribution of LatencyUS: the non-empty buckets of a
	// log-linear histogram (each at most 1/128 of its lower bound wide), in order.
	Histogram []Bucket `json:"latency_histogram"`
	// Seconds is the per-second series of the measured phase. The counts of all
	// entries add up to the totals above; its last entry may be shorter than a second
	// and includes the wait for the last answers.
	Seconds []Second `json:"seconds"`
	// SLO is the verdict of the service level objective, when one was given.
	SLO *stats.Verdict `json:"slo,omitempty"`
}

// ByType holds one TypeStats per request type.
type ByType struct {
	GetHost  TypeStats `json:"get_host"`
	GetRoute TypeStats `json:"get_route"`
	Report   TypeStats `json:"report"`
}

// TypeStats are the figures of one request type. For reports only Sent and
// ReportsAfter are meaningful.
type TypeStats struct {
	// Sent == Received + Timeouts for get_host and get_route.
	Sent       uint64 `json:"sent"`
	Received   uint64 `json:"received"`
	Timeouts   uint64 `json:"timeouts"`
	Late       uint64 `json:"late"`
	Duplicates uint64 `json:"duplicates"`
	// Rate is Received per second of the measured span (Sent for reports).
	Rate float64 `json:"rate"`
	// LatencyUS is the latency of this type's answers in microseconds.
	LatencyUS Latency `json:"latency_us"`
	// Retcodes counts get_host answers by retcode (get_host only).
	Retcodes *Retcodes `json:"retcodes,omitempty"`
	// ReportsAfter is the number of reports sent after a get_host answer (report
	// only); the rest of Sent came from the mix.
	ReportsAfter uint64 `json:"reports_after,omitempty"`
}

// Latency summarises latencies in microseconds. When Exact is true every answer's
// latency was kept (nanosecond resolution) and the percentiles are exact, by nearest
// rank; otherwise they come from a log-linear histogram and are within stats.HistogramError
// (0.4%) of the true value.
type Latency struct {
	Count  uint64  `json:"count"`
	Exact  bool    `json:"exact"`
	Min    float64 `json:"min"`
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
	P50    float64 `json:"p50"`
	P90    float64 `json:"p90"`
	P99    float64 `json:"p99"`
	P999   float64 `json:"p999"`
	P9999  float64 `json:"p9999"`
	Max    float64 `json:"max"`
}

// Retcodes counts get_host answers by retcode: the four Lars codes, and Other for any
// other value.
type Retcodes struct {
	Succ        uint64 `json:"succ"`
	Overload    uint64 `json:"overload"`
	SystemError uint64 `json:"system_error"`
	NoExist     uint64 `json:"noexist"`
	Other       uint64 `json:"other"`
}

// Sum returns the total of the counts.
func (r Retcodes) Sum() uint64 {
	return r.Succ + r.Overload + r.SystemError + r.NoExist + r.Other
}

// Lag summarises the send lag in microseconds (from a histogram, within 0.4%).
type Lag struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Second is one entry of the per-second series. Its counts are events of the
// interval (requests sent, answers and timeouts that happened in it), for measured
// requests only. Percentiles come from a histogram (within 0.4%).
type Second struct {
	// T is the end of the interval, in seconds after the warm-up.
	T float64 `json:"t_s"`
	// Span is the interval's length in seconds (about 1, the last one may differ).
	Span       float64 `json:"span_s"`
	Sent       uint64  `json:"sent"`
	Received   uint64  `json:"received"`
	Timeouts   uint64  `json:"timeouts"`
	Late       uint64  `json:"late"`
	Duplicates uint64  `json:"duplicates"`
	Malformed  uint64  `json:"malformed"`
	Refused    uint64  `json:"refused"`
	// Rate is Received / Span.
	Rate   float64 `json:"rate"`
	P50US  float64 `json:"p50_us"`
	P99US  float64 `json:"p99_us"`
	P999US float64 `json:"p999_us"`
	MaxUS  float64 `json:"max_us"`
}

// Bucket is one bucket of a latency histogram: Count latencies in [LowUS, HighUS).
type Bucket struct {
	LowUS  float64 `json:"low_us"`
	HighUS float64 `json:"high_us"`
	Count  uint64  `json:"count"`
}
