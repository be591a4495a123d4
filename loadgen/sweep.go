package loadgen

import (
	"context"
	"fmt"
	"time"

	"github.com/larsgo/lars/loadgen/report"
	"github.com/larsgo/lars/loadgen/stats"
)

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
	OnStep func(report.SweepStep)
}

// Sweep runs a capacity search.
func Sweep(ctx context.Context, sc SweepConfig) (*report.SweepReport, error) {
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
	out := &report.SweepReport{Schema: report.SweepSchemaVersion, Objective: sc.SLO.String(), StepDurationS: sc.StepDuration.Seconds(), Steps: []report.SweepStep{}}
	once := func(rate float64, attempt int) (report.SweepStep, error) {
		cfg := sc.Load
		cfg.Rate, cfg.Duration, cfg.Requests = rate, sc.StepDuration, 0
		rep, err := Run(ctx, cfg)
		if err != nil {
			return report.SweepStep{}, err
		}
		rep.SLO = report.CheckSLO(sc.SLO, rep)
		st := report.SweepStep{TargetRate: rate, Attempt: attempt, Met: rep.SLO.Met, Reason: rep.SLO.Reason, Report: rep}
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
	step := func(rate float64) (report.SweepStep, error) {
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
