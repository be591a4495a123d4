package ctlplane

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/larsgo/lars/loadgen/report/ctlreport"
)

// ReporterSweepConfig describes a report service capacity search: runs of Run at
// rising rates until one drops (see CheckReporter), then a bisection.
type ReporterSweepConfig struct {
	// Run is every step's run; Rate and Duration are set per step. It needs an
	// AdminURL or a Store: without either a drop cannot be seen.
	Run ReporterConfig
	// Search is the rates tried (frames a second); Start is required.
	Search Search
	// StepDuration is each step's span of sending. Default 5s.
	StepDuration time.Duration
	// OnStep, when not nil, is called after each step.
	OnStep func(ctlreport.ReporterSweepStep)
}

// SweepReporter runs a report service capacity search.
func SweepReporter(ctx context.Context, sc ReporterSweepConfig) (*ctlreport.ReporterSweepReport, error) {
	if sc.Run.AdminURL == "" && sc.Run.Store == nil {
		return nil, errors.New("a report service search needs the service's admin URL or its store to see drops")
	}
	if sc.Search.Start <= 0 {
		return nil, fmt.Errorf("sweep start %v: want a positive rate", sc.Search.Start)
	}
	if sc.Search.Factor != 0 && sc.Search.Factor <= 1 {
		return nil, fmt.Errorf("sweep factor %v: must be above 1", sc.Search.Factor)
	}
	if sc.StepDuration <= 0 {
		sc.StepDuration = DefaultStepDuration
	}
	sc.Search.Integer = false
	out := &ctlreport.ReporterSweepReport{Schema: ctlreport.ReporterSweepSchemaVersion, StepDurationS: sc.StepDuration.Seconds(), Steps: []ctlreport.ReporterSweepStep{}}
	best, found, interrupted, err := sc.Search.run(ctx, func(rate float64, attempt int) (stepOutcome, error) {
		cfg := sc.Run
		cfg.Rate, cfg.Duration, cfg.Reports = rate, sc.StepDuration, 0
		rep, err := RunReporter(ctx, cfg)
		if err != nil {
			return stepOutcome{}, err
		}
		st := ctlreport.ReporterSweepStep{Rate: rate, Attempt: attempt, Met: rep.Verdict.Met, Reason: rep.Verdict.Reason, Report: rep}
		out.Steps = append(out.Steps, st)
		if st.Met { // every step that meets the objective is above the last that did
			out.CapacityResults = rep.Sent.ResultRate
		}
		if sc.OnStep != nil {
			sc.OnStep(st)
		}
		return stepOutcome{met: st.Met}, nil
	})
	out.Capacity, out.Found, out.Interrupted = best, found, interrupted
	return out, err
}
