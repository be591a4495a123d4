package loadgen

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/larsgo/lars/loadgen/stats"
)

// SweepSchemaVersion names the JSON form of SweepReport.
const SweepSchemaVersion = "lars-loadgen-sweep/1"

// Defaults of SweepConfig.
const (
	DefaultSweepStart    = 1000
	DefaultSweepFactor   = 2
	DefaultSweepRefine   = 4
	DefaultStepDuration  = time.Second
	loadgenLimitFraction = 0.9
)

// SweepConfig describes a capacity search: open-loop steps at rising rates until the
// objective is missed, then a bisection between the last rate that met it and the
// first that did not.
type SweepConfig struct {
	// Load is the traffic of every step; its Rate, Duration and Requests are replaced
	// per step, and its Warmup is each step's warm-up.
	Load Config
	// SLO is the objective a step must meet.
	SLO stats.Objective
	// Start is the first step's rate per second. Default 1000.
	Start float64
	// Factor multiplies the rate from one step to the next until a step misses the
	// objective. Default 2.
	Factor float64
	// Refine is the number of bisection steps after the first miss. Default 4.
	Refine int
	// Retries is how many times a step that missed the objective is run again before
	// it counts as missed: one noisy second (another process taking the CPU) should
	// not end the search. Default 1; negative: none.
	Retries int
	// Max, when positive, is the highest rate tried.
	Max float64
	// StepDuration is the measured span of each step. Default 1s.
	StepDuration time.Duration
	// OnStep, when not nil, is called after each step (for progress output).
	OnStep func(SweepStep)
}

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

// Sweep runs a capacity search.
func Sweep(ctx context.Context, sc SweepConfig) (*SweepReport, error) {
	if sc.Start <= 0 {
		sc.Start = DefaultSweepStart
	}
	if sc.Factor == 0 {
		sc.Factor = DefaultSweepFactor
	}
	if sc.Factor <= 1 {
		return nil, configErr("sweep factor %v: must be above 1", sc.Factor)
	}
	if sc.Refine == 0 {
		sc.Refine = DefaultSweepRefine
	}
	if sc.Retries == 0 {
		sc.Retries = 1
	}
	if sc.StepDuration <= 0 {
		sc.StepDuration = DefaultStepDuration
	}
	out := &SweepReport{Schema: SweepSchemaVersion, Objective: sc.SLO.String(), StepDurationS: sc.StepDuration.Seconds(), Steps: []SweepStep{}}
	once := func(rate float64, attempt int) (SweepStep, error) {
		cfg := sc.Load
		cfg.Rate, cfg.Duration, cfg.Requests = rate, sc.StepDuration, 0
		rep, err := Run(ctx, cfg)
		if err != nil {
			return SweepStep{}, err
		}
		rep.SLO = CheckSLO(sc.SLO, rep)
		st := SweepStep{TargetRate: rate, Attempt: attempt, Met: rep.SLO.Met, Reason: rep.SLO.Reason, Report: rep}
		if rep.SendRate < loadgenLimitFraction*rate {
			st.Met, st.LoadgenLimited = false, true
			st.Reason = fmt.Sprintf("the load generator sent only %.0f/s", rep.SendRate)
		}
		out.Steps = append(out.Steps, st)
		if st.Met && rate > out.Capacity {
			out.Capacity, out.CapacityAnswers, out.Found = rate, rep.Rate, true
		}
		if sc.OnStep != nil {
			sc.OnStep(st)
		}
		return st, nil
	}
	step := func(rate float64) (SweepStep, error) {
		st, err := once(rate, 0)
		for a := 1; a <= sc.Retries && err == nil && !st.Met && !st.LoadgenLimited && ctx.Err() == nil; a++ {
			st, err = once(rate, a)
		}
		return st, err
	}
	var good, bad float64
	for rate := sc.Start; sc.Max <= 0 || rate <= sc.Max; rate *= sc.Factor {
		st, err := step(rate)
		if err != nil {
			return out, err
		}
		if ctx.Err() != nil {
			out.Interrupted = true
			return out, nil
		}
		if st.LoadgenLimited {
			return out, nil
		}
		if !st.Met {
			bad = rate
			break
		}
		good = rate
	}
	for range sc.Refine {
		if bad == 0 || ctx.Err() != nil {
			break
		}
		mid := (good + bad) / 2
		st, err := step(mid)
		if err != nil {
			return out, err
		}
		switch {
		case ctx.Err() != nil:
			out.Interrupted = true
			return out, nil
		case st.LoadgenLimited:
			return out, nil
		case st.Met:
			good = mid
		default:
			bad = mid
		}
	}
	return out, nil
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
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.Found {
		_, err := fmt.Fprintf(w, "\ncapacity: %.0f requests/s met the objective (%.0f answers/s)\n", s.Capacity, s.CapacityAnswers)
		return err
	}
	_, err := fmt.Fprintf(w, "\ncapacity: no step met the objective\n")
	return err
}
