package ctlreport

import (
	"time"

	"github.com/larsgo/lars/loadgen/stats"
)

// DNSSchemaVersion names the JSON form of DNSReport; it changes only when a field
// changes meaning or goes away.
const DNSSchemaVersion = "lars-loadgen-dns/1"

// DNSReport is the result of a route service run, and its -json output (SCHEMA.md).
//
// The push counts add up exactly:
//
//	Pushes.Expected == Pushes.Received + Pushes.LostClosed + Pushes.Missing
//
// Expected counts, for every change, the connections subscribed to its key and open
// when it was made; Received counts each (change, agent) once.
type DNSReport struct {
	// Schema is DNSSchemaVersion.
	Schema string `json:"schema"`
	// Target is the route service's address.
	Target string `json:"target"`
	// Start is when the run started (the setup included).
	Start time.Time `json:"start"`
	// Agents is the number of simulated agents, one connection each.
	Agents int `json:"agents"`
	// KeysPerAgent is the number of distinct keys each agent holds.
	KeysPerAgent int `json:"keys_per_agent"`
	// KeySpace is the number of keys the agents' keys were drawn from.
	KeySpace int `json:"key_space"`
	// Spread is how they were drawn: "uniform" or "zipf".
	Spread string `json:"spread"`
	// HostsPerKey is the number of hosts of every route written.
	HostsPerKey int `json:"hosts_per_key"`
	// DistinctKeys is the number of keys held by at least one agent: the keys changed.
	DistinctKeys int `json:"distinct_keys"`
	// Subscriptions is the (agent, key) pairs held when the changes started: open
	// connections times their keys.
	Subscriptions int `json:"subscriptions"`
	// MaxSubscribers is the most connections holding one key.
	MaxSubscribers int `json:"max_subscribers"`
	// TargetChangeRate is the intended changes per second.
	TargetChangeRate float64 `json:"target_change_rate"`
	// SetupS is how long the connections and first pulls took, in seconds.
	SetupS float64 `json:"setup_s"`
	// DurationS is the span of the changes, in seconds: from the first change's
	// intended time to the end of the last write, and at least Changes.Made intervals
	// of the target rate.
	DurationS float64 `json:"duration_s"`
	// DrainS is how long the run then waited for the last pushes.
	DrainS float64 `json:"drain_s"`
	// LoadgenCPUS is the CPU time the load generator used over the changes and the
	// drain, in seconds: on a shared machine, time taken from the service.
	LoadgenCPUS float64 `json:"loadgen_cpu_s"`
	// Interrupted is true when the run was cut short (SIGINT).
	Interrupted bool `json:"interrupted"`

	Connections DNSConnections `json:"connections"`
	Pulls       DNSPulls       `json:"pulls"`
	Changes     DNSChanges     `json:"changes"`
	Pushes      DNSPushes      `json:"pushes"`
	// Service is the route service's own figures over the changes, from /metrics
	// (with an admin URL): counters as their increase, gauges as their value at the
	// end.
	Service map[string]float64 `json:"service,omitempty"`
	// Seconds is the per-second series of the changes and the drain.
	Seconds []DNSSecond `json:"seconds"`
	// SLO is the objective's verdict, when one was given.
	SLO *stats.Verdict `json:"slo,omitempty"`
}

// DNSConnections counts the agents' connections.
type DNSConnections struct {
	// Connected is the connections opened.
	Connected int `json:"connected"`
	// Refused is the agents the service refused: the connection could not be opened
	// (DialErrors) or was closed before any answer (a service over its limit).
	Refused    uint64 `json:"refused"`
	DialErrors uint64 `json:"dial_errors"`
	// ClosedByService is the connections the service closed after answering (a slow
	// reader, a restart).
	ClosedByService uint64 `json:"closed_by_service"`
	// NotReady is the open connections that did not have this run's routes for every
	// key when the setup ended.
	NotReady int `json:"not_ready"`
}

// DNSPulls are the agents' first pulls.
type DNSPulls struct {
	// Sent is the GetRouteRequests written: Connected times KeysPerAgent.
	Sent uint64 `json:"sent"`
	// Answered is the pulls answered (the first frame of each key).
	Answered uint64 `json:"answered"`
	// LatencyMS is from the write of an agent's pulls to each answer.
	LatencyMS Latency `json:"latency_ms"`
}

// DNSChanges are the route changes written.
type DNSChanges struct {
	// Made is the changes written; Committed of them succeeded, Failed did not (and
	// are left out of every push count).
	Made      int `json:"made"`
	Committed int `json:"committed"`
	Failed    int `json:"failed"`
	// Rate is Committed per second of DurationS.
	Rate float64 `json:"rate"`
	// Deferred counts the times no key was free for a change: every held key still
	// waited for the pushes of its previous change. Changes then fall behind the rate.
	Deferred int `json:"deferred"`
	// WriteMS is how long each write took (from the call to its committed return).
	WriteMS Latency `json:"write_ms"`
	// FirstError is the first failed write's error.
	FirstError string `json:"first_error,omitempty"`
}

// DNSPushes are the pushes the agents received for the changes.
type DNSPushes struct {
	// Expected is the sum over changes of the connections then subscribed to the key.
	Expected uint64 `json:"expected"`
	// Received is the pushes that arrived, each (change, agent) once.
	Received uint64 `json:"received"`
	// LostClosed is the expected pushes that did not arrive because the service closed
	// the agent's connection first.
	LostClosed uint64 `json:"lost_closed"`
	// Missing is the expected pushes that did not arrive within the push timeout on
	// an open connection.
	Missing uint64 `json:"missing"`
	// Rate is Received per second of DurationS.
	Rate float64 `json:"rate"`
	// CompleteChanges is the changes every expected agent received.
	CompleteChanges int `json:"complete_changes"`
	// Duplicates counts a change received twice by one agent; Stale, an older change
	// after a newer one; Unexpected, a route frame matching no change of the run or no
	// key of the agent; Malformed, a frame that is no route answer; Early, pushes that
	// arrived before their write returned (their latency counts as 0).
	Duplicates uint64 `json:"duplicates"`
	Stale      uint64 `json:"stale"`
	Unexpected uint64 `json:"unexpected"`
	Malformed  uint64 `json:"malformed"`
	Early      uint64 `json:"early"`
	// LatencyMS is every push's latency: from its change's commit to its arrival.
	LatencyMS Latency `json:"latency_ms"`
	// FirstMS is, for each change, the latency of its first push (exact).
	FirstMS Latency `json:"first_ms"`
	// LastMS is, for each complete change, the latency of its last push: when every
	// agent had it (exact).
	LastMS Latency `json:"last_ms"`
	// Histogram is the distribution of LatencyMS: its non-empty buckets, ascending.
	Histogram []Bucket `json:"latency_histogram"`
}

// Bucket is one bucket of a latency histogram: Count latencies in [LowMS, HighMS).
type Bucket struct {
	LowMS  float64 `json:"low_ms"`
	HighMS float64 `json:"high_ms"`
	Count  uint64  `json:"count"`
}

// Loss returns the share of expected pushes that did not arrive (0 when none was
// expected).
func (p DNSPushes) Loss() float64 {
	if p.Expected == 0 {
		return 0
	}
	return float64(p.Missing+p.LostClosed) / float64(p.Expected)
}

// DNSSecond is one second of the series. Its counts are events of the interval.
type DNSSecond struct {
	// T is the end of the interval, in seconds after the first change.
	T    float64 `json:"t_s"`
	Span float64 `json:"span_s"`
	// Changes is the changes committed.
	Changes uint64 `json:"changes"`
	// Pushes is the pushes received; PushRate, per second.
	Pushes   uint64  `json:"pushes"`
	PushRate float64 `json:"push_rate"`
	// P50MS, P99MS and MaxMS are the latencies of those pushes (histogram, 0.4%).
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
	// Closed is the connections refused or closed by the service.
	Closed uint64 `json:"closed"`
	// ServicePushes is the increase of the service's lars_dns_pushes_total and
	// ServiceCPUS of its process_cpu_seconds_total (with an admin URL; -1 when the
	// read failed).
	ServicePushes float64 `json:"service_pushes,omitempty"`
	ServiceCPUS   float64 `json:"service_cpu_s,omitempty"`
}
