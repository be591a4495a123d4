package report

import (
	"fmt"
	"io"

	"github.com/larsgo/lars/loadgen/stats"
)

// SweepSchemaVersion names the JSON form of SweepReport.
const SweepSchemaVersion = "lars-loadgen-sweep/1"

// SweepStep is one step of a capacity search.
type SweepStep struct {
	// TargetRate is the step's intended rate per second (all request types).
	TargetRate float64 `json:"target_rate"`
	// Attempt is 0 for a rate's first run, 1 and up for its retries.
	Attempt int `json:"attempt"`
	// Met is true when the step met the objective.
	Met bool `json:"met"`
	// Reason says why it did not, empty when it did.
	Reason string `json:"reason,omitempty"`
	// LoadgenLimited is true when the load generator sent less than 90% of the target
	// rate: the step says nothing about the agent, and the search stops.
	LoadgenLimited bool `json:"loadgen_limited"`
	// Report is the step's full report (SCHEMA.md).
	Report *Report `json:"report"`
}

// SweepReport is the result of a capacity search; its JSON form is in SCHEMA.md.
type SweepReport struct {
	// Schema is SweepSchemaVersion.
	Schema string `json:"schema"`
	// Objective is the SLO in ParseSLO's form, with the loss limit.
	Objective string `json:"objective"`
	// StepDurationS is each step's measured span in seconds.
	StepDurationS float64 `json:"step_duration_s"`
	// Steps are in the order they ran.
	Steps []SweepStep `json:"steps"`
	// Capacity is the highest target rate that met the objective, 0 if none did.
	Capacity float64 `json:"capacity"`
	// CapacityAnswers is the answers per second achieved at that step.
	CapacityAnswers float64 `json:"capacity_answers"`
	// Found is true when some step met the objective.
	Found bool `json:"found"`
	// Interrupted is true when the search was cut short.
	Interrupted bool `json:"interrupted"`
}

// WriteText writes the steps of a capacity search as a table and its result.
func (s *SweepReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "capacity search, objective %s, %.2fs a step\n\n", s.Objective, s.StepDurationS)
	tw := stats.NewTable(w)
	fmt.Fprintln(tw, "target/s\tachieved/s\tp50 us\tp99 us\tp99.9 us\tloss %\tverdict\t")
	for _, st := range s.Steps {
		r := st.Report
		verdict := stats.StepVerdict(st.Met, st.Reason)
		if r == nil { // a step of a report read back from JSON without its figures
			fmt.Fprintf(tw, "%.0f\t-\t-\t-\t-\t-\t%s\t\n", st.TargetRate, verdict)
			continue
		}
		fmt.Fprintf(tw, "%.0f\t%.0f\t%s\t%s\t%s\t%.4f\t%s\t\n", st.TargetRate, r.Rate, us(r.LatencyUS.P50), us(r.LatencyUS.P99), us(r.LatencyUS.P999), r.Loss*100, verdict)
	}
	if s.Found {
		return stats.EndTable(tw, w, "\ncapacity: %.0f requests/s met the objective (%.0f answers/s)\n", s.Capacity, s.CapacityAnswers)
	}
	return stats.EndTable(tw, w, "\ncapacity: no step met the objective\n")
}
