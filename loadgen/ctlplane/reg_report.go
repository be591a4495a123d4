package ctlplane

import (
	"fmt"
	"time"

	"github.com/larsgo/lars/loadgen/report/ctlreport"
)

// RegisterSchemaVersion names the JSON form of RegisterReport.
const RegisterSchemaVersion = "lars-loadgen-register/1"

// RegisterReport is the result of a registration run, and its -json output. Latencies
// are in milliseconds, one value per (instance, subscriber): register is from the
// LEASE_NEW's write to the first push holding the instance, drop from the LEASE_DROP's
// write to the first push without it, expiry from the lease's end (the last renewal's
// write + ttl) to the first push without it.
type RegisterReport struct {
	Schema            string    `json:"schema"`
	Target            string    `json:"target"`
	Start             time.Time `json:"start"`
	Agents            int       `json:"agents"`
	InstancesPerAgent int       `json:"instances_per_agent"`
	Keys              int       `json:"keys"`
	Subscribers       int       `json:"subscribers"`
	TTLS              float64   `json:"ttl_s"`
	StormSpreadS      float64   `json:"storm_spread_s"`
	WarmupS           float64   `json:"warmup_s"`
	ChurnPerSec       float64   `json:"churn_per_s"`
	ExpirePerSec      float64   `json:"expire_per_s"`
	// SetupS is the connections and pulls; DrainS the wait after the steady phase
	// for its last pushes.
	SetupS      float64 `json:"setup_s"`
	DrainS      float64 `json:"drain_s"`
	LoadgenCPUS float64 `json:"loadgen_cpu_s"`
	Interrupted bool    `json:"interrupted"`

	Connections RegConnections `json:"connections"`
	Storm       RegStorm       `json:"storm"`
	Steady      RegSteady      `json:"steady"`
	// Results counts the service's LeaseResults by op and status.
	Results []RegResultCount `json:"results"`
	// ReplyMS is each Lease frame's time to its LeaseReply; WriteMS how long its
	// write took (long when the service stopped reading the connection).
	ReplyMS   ctlreport.Latency `json:"reply_ms"`
	WriteMS   ctlreport.Latency `json:"write_ms"`
	Renewals  RegRenewals       `json:"renewals"`
	Anomalies RegAnomalies      `json:"anomalies"`
	// Service is the route service's figures over the steady phase from /metrics
	// (counters as increases, gauges at its end); ServiceRates its counters a second.
	Service      map[string]float64 `json:"service,omitempty"`
	ServiceRates map[string]float64 `json:"service_rates,omitempty"`
	// DB is the service's lease writes to the store over the steady phase, when its
	// /metrics has them.
	DB      *RegDB      `json:"db,omitempty"`
	Seconds []RegSecond `json:"seconds"`
}

// RegDB is the route service's lease writes over the steady phase: rows and
// statements a second, by kind (register, renew, expire) and in all, and its CPU.
type RegDB struct {
	RowsPerS       float64            `json:"rows_per_s"`
	StatementsPerS float64            `json:"statements_per_s"`
	RowsByKind     map[string]float64 `json:"rows_per_s_by_kind"`
	StmtsByKind    map[string]float64 `json:"statements_per_s_by_kind"`
	// ServiceCPU is the service's CPU over the steady phase, in cores.
	ServiceCPU float64 `json:"service_cpu"`
}

// RegConnections counts the run's connections.
type RegConnections struct {
	Agents      int `json:"agents"`
	Subscribers int `json:"subscribers"`
	// SubscribersReady had every key's route before the storm: each registration and
	// removal is expected to reach each of them.
	SubscribersReady  int    `json:"subscribers_ready"`
	DialErrors        uint64 `json:"dial_errors"`
	AgentsClosed      uint64 `json:"agents_closed_by_service"`
	SubscribersClosed uint64 `json:"subscribers_closed_by_service"`
}

// RegStorm is the start: every agent registered its instances at once.
type RegStorm struct {
	Instances uint64 `json:"instances"`
	Answered  uint64 `json:"answered"`
	Accepted  uint64 `json:"accepted"`
	// AcceptedS is from the storm's start to the last LEASE_OK; AcceptRate is
	// Accepted / AcceptedS. AllAnsweredS is to the last answer of any status.
	AcceptedS    float64 `json:"accepted_s"`
	AcceptRate   float64 `json:"accept_rate"`
	AllAnsweredS float64 `json:"all_answered_s"`
	// AllPushedS is from the storm's start to the last subscriber's sight of the last
	// accepted instance; Complete says every accepted instance reached every one.
	AllPushedS float64           `json:"all_pushed_s"`
	Complete   bool              `json:"complete"`
	RegisterMS ctlreport.Latency `json:"register_ms"`
	// Missing is the (instance, subscriber) sights of accepted instances that did not
	// come within the setup timeout.
	Missing uint64 `json:"missing"`
}

// RegSteady is the steady phase: renewals, replacements and expiries.
type RegSteady struct {
	DurationS float64 `json:"duration_s"`
	// Registered, Dropped and Expired are the new instances, and those dropped and
	// left to expire; Skipped the replacements not made (no instance of the agent had
	// reached every subscriber yet, or no slot was left).
	Registered uint64            `json:"registered"`
	Dropped    uint64            `json:"dropped"`
	Expired    uint64            `json:"expired"`
	Skipped    uint64            `json:"skipped"`
	RegisterMS ctlreport.Latency `json:"register_ms"`
	DropMS     ctlreport.Latency `json:"drop_ms"`
	ExpiryMS   ctlreport.Latency `json:"expiry_ms"`
	// Missing* are the expected sights that did not come within the push timeout.
	MissingRegister uint64 `json:"missing_register"`
	MissingDrop     uint64 `json:"missing_drop"`
	MissingExpiry   uint64 `json:"missing_expiry"`
	// ExpiredEarly counts removals seen before the lease's end (timed as 0);
	// EarliestMS is the most early one.
	ExpiredEarly uint64  `json:"expired_early"`
	EarliestMS   float64 `json:"earliest_ms"`
}

// RegResultCount is how many LeaseResults of an op had a status.
type RegResultCount struct {
	Op     string `json:"op"`
	Status string `json:"status"`
	Count  uint64 `json:"count"`
}

// RegRenewals are the LEASE_KEEP renewals written.
type RegRenewals struct {
	Frames  uint64 `json:"frames"`
	Entries uint64 `json:"entries"`
}

// RegAnomalies are what a correct service never causes.
type RegAnomalies struct {
	// RemovedWhileKept: an instance still renewed left a route.
	RemovedWhileKept uint64 `json:"removed_while_kept"`
	// Reappeared: an instance came back to a subscriber after leaving it;
	// ReappearedEnded, of them, after its agent dropped it or stopped renewing it.
	Reappeared      uint64 `json:"reappeared"`
	ReappearedEnded uint64 `json:"reappeared_ended"`
	// UnaskedRemoved: LEASE_REMOVED results the service sent unasked.
	UnaskedRemoved uint64 `json:"unasked_removed"`
	// ReplyMismatch: LeaseReplies that answer no frame written.
	ReplyMismatch uint64 `json:"reply_mismatch"`
	// OutOfOrder: LeaseReplies that answer a frame written after one still
	// unanswered (allowed: the agent takes results by instance; counted to be seen).
	OutOfOrder uint64 `json:"out_of_order"`
	// Malformed frames, unexpected keys or hosts (another run's), write errors.
	Malformed   uint64 `json:"malformed"`
	Unexpected  uint64 `json:"unexpected"`
	WriteErrors uint64 `json:"write_errors"`
}

// RegSecond is one second of the steady phase and the drain; counts are of the
// interval.
type RegSecond struct {
	T          float64 `json:"t_s"`
	Span       float64 `json:"span_s"`
	Registered uint64  `json:"registered"`
	Dropped    uint64  `json:"dropped"`
	Expired    uint64  `json:"expired"`
	Renewed    uint64  `json:"renewed"`
	// Appeared and Gone are the sights of instances arriving and leaving.
	Appeared      uint64  `json:"appeared"`
	Gone          uint64  `json:"gone"`
	RegisterP99MS float64 `json:"register_p99_ms"`
	GoneP99MS     float64 `json:"gone_p99_ms"`
	// ServiceCPUS is the service's CPU seconds in the interval (-1 unread; 0 without
	// an admin URL); ServiceLeaseRows and ServiceLeaseStatements its lease writes to
	// the store (lars_dns_lease_db_rows_total, _statements_total, every kind).
	ServiceCPUS            float64 `json:"service_cpu_s"`
	ServiceLeaseRows       float64 `json:"service_lease_rows"`
	ServiceLeaseStatements float64 `json:"service_lease_statements"`
}

// Problems returns what the run saw a correct service at ease never cause: sights
// missing, anomalies, connections closed by the service, results other than
// LEASE_OK, an interrupted run. None: the service did all it was asked.
func (r *RegisterReport) Problems() []string {
	var p []string
	add := func(n uint64, what string) {
		if n > 0 {
			p = append(p, fmt.Sprintf("%d %s", n, what))
		}
	}
	sd, a, c := r.Steady, r.Anomalies, r.Connections
	add(r.Storm.Missing+sd.MissingRegister+sd.MissingDrop+sd.MissingExpiry, "sights missing")
	add(a.RemovedWhileKept, "instances removed while renewed")
	add(a.Reappeared, "instances back after they left")
	add(a.ReplyMismatch+a.Malformed, "bad frames")
	add(a.WriteErrors, "write errors")
	add(c.AgentsClosed+c.SubscribersClosed, "connections closed by the service")
	add(uint64(c.Subscribers-c.SubscribersReady), "subscribers not ready")
	for _, x := range r.Results {
		if x.Status != "ok" {
			add(x.Count, x.Op+" "+x.Status)
		}
	}
	if r.Interrupted {
		p = append(p, "interrupted")
	}
	return p
}
