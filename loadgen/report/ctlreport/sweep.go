package ctlreport

// DNSSweepSchemaVersion names the JSON form of DNSSweepReport.
const DNSSweepSchemaVersion = "lars-loadgen-dns-sweep/1"

// What a route service capacity search varies.
const (
	SweepAgents  = "agents"  // the number of agents (DNSConfig.Agents)
	SweepChanges = "changes" // the change rate (DNSConfig.ChangesPerSec)
)

// DNSSweepStep is one step of a route service search.
type DNSSweepStep struct {
	// Value is the step's agents or change rate.
	Value float64 `json:"value"`
	// Attempt is 0 for a value's first run, 1 and up for retries.
	Attempt int `json:"attempt"`
	// Met is true when the step met the objective and made its changes on schedule
	// (at least 90% of those due, within 1.5 times the step and a second).
	Met bool `json:"met"`
	// Reason says why not.
	Reason string `json:"reason,omitempty"`
	// Report is the step's run report.
	Report *DNSReport `json:"report"`
}

// DNSSweepReport is the result of a route service capacity search (SCHEMA.md).
type DNSSweepReport struct {
	Schema        string         `json:"schema"`
	Over          string         `json:"over"`
	Objective     string         `json:"objective"`
	StepDurationS float64        `json:"step_duration_s"`
	Steps         []DNSSweepStep `json:"steps"`
	// Capacity is the highest value that met the objective, 0 if none did.
	Capacity    float64 `json:"capacity"`
	Found       bool    `json:"found"`
	Interrupted bool    `json:"interrupted"`
}

// ReporterSweepSchemaVersion names the JSON form of ReporterSweepReport.
const ReporterSweepSchemaVersion = "lars-loadgen-reporter-sweep/1"

// ReporterSweepStep is one step of a report service search.
type ReporterSweepStep struct {
	// Rate is the step's target frames a second.
	Rate    float64         `json:"rate"`
	Attempt int             `json:"attempt"`
	Met     bool            `json:"met"`
	Reason  string          `json:"reason,omitempty"`
	Report  *ReporterReport `json:"report"`
}

// ReporterSweepReport is the result of a report service capacity search (SCHEMA.md).
type ReporterSweepReport struct {
	Schema        string              `json:"schema"`
	StepDurationS float64             `json:"step_duration_s"`
	Steps         []ReporterSweepStep `json:"steps"`
	// Capacity is the highest frame rate with no drop, 0 if none; CapacityResults is
	// the results a second sent at that step.
	Capacity        float64 `json:"capacity"`
	CapacityResults float64 `json:"capacity_results"`
	Found           bool    `json:"found"`
	Interrupted     bool    `json:"interrupted"`
}
