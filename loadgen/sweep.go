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
	sc, err := sc.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &sweeper{ctx: ctx, sc: sc, out: &report.SweepReport{Schema: report.SweepSchemaVersion, Objective: sc.SLO.String(),
		StepDurationS: sc.StepDuration.Seconds(), Steps: []report.SweepStep{}}}
	good, bad, stop, err := s.rise()
	if err != nil || stop {
		return s.out, err
	}
	return s.out, s.bisect(good, bad)
}

// withDefaults returns sc with its defaults set, or an error.
func (sc SweepConfig) withDefaults() (SweepConfig, error) {
	if sc.Start <= 0 {
		sc.Start = DefaultSweepStart
	}
	if sc.Factor == 0 {
		sc.Factor = DefaultSweepFactor
	}
	if sc.Factor <= 1 {
		return sc, configErr("sweep factor %v: must be above 1", sc.Factor)
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
	return sc, nil
}

// sweeper is a capacity search under way: its steps go to out.
type sweeper struct {
	ctx context.Context
	sc  SweepConfig
	out *report.SweepReport
}

// rise runs steps at rates growing by Factor from Start until one misses the
// objective: good is the last rate that met it, bad the one that missed (0 when none
// did). stop is true when the search is over: interrupted, or the load generator
// could not send a step's rate.
func (s *sweeper) rise() (good, bad float64, stop bool, err error) {
	sc := &s.sc
	for rate := sc.Start; sc.Max <= 0 || rate <= sc.Max; rate *= sc.Factor {
		st, err := s.step(rate)
		if err != nil {
			return good, bad, true, err
		}
		if s.ctx.Err() != nil {
			s.out.Interrupted = true
			return good, bad, true, nil
		}
		if st.LoadgenLimited {
			return good, bad, true, nil
		}
		if !st.Met {
			return good, rate, false, nil
		}
		good = rate
	}
	return good, bad, false, nil
}

// bisect runs Refine steps between good, a rate that met the objective, and bad, one
// that missed it (none when bad is 0).
func (s *sweeper) bisect(good, bad float64) error {
	for range s.sc.Refine {
		if bad == 0 || s.ctx.Err() != nil {
			break
		}
		mid := (good + bad) / 2
		st, err := s.step(mid)
		if err != nil {
			return err
		}
		switch {
		case s.ctx.Err() != nil:
			s.out.Interrupted = true
			return nil
		case st.LoadgenLimited:
			return nil
		case st.Met:
			good = mid
		default:
			bad = mid
		}
	}
	return nil
}

// step runs a step at rate, and again up to Retries times while it misses the
// objective for another reason than the load generator's limit.
func (s *sweeper) step(rate float64) (report.SweepStep, error) {
	st, err := s.once(rate, 0)
	for a := 1; a <= s.sc.Retries && err == nil && !st.Met && !st.LoadgenLimited && s.ctx.Err() == nil; a++ {
		st, err = s.once(rate, a)
	}
	return st, err
}

// once runs one attempt of a step at rate and judges it.
func (s *sweeper) once(rate float64, attempt int) (report.SweepStep, error) {
	cfg := s.sc.Load
	cfg.Rate, cfg.Duration, cfg.Requests = rate, s.sc.StepDuration, 0
	rep, err := Run(s.ctx, cfg)
	if err != nil {
		return report.SweepStep{}, err
	}
	rep.SLO = report.CheckSLO(s.sc.SLO, rep)
	st := report.SweepStep{TargetRate: rate, Attempt: attempt, Met: rep.SLO.Met, Reason: rep.SLO.Reason, Report: rep}
	if rep.SendRate < loadgenLimitFraction*rate {
		st.Met, st.LoadgenLimited = false, true
		st.Reason = fmt.Sprintf("the load generator sent only %.0f/s", rep.SendRate)
	}
	out := s.out
	out.Steps = append(out.Steps, st)
	if st.Met && rate > out.Capacity {
		out.Capacity, out.CapacityAnswers, out.Found = rate, rep.Rate, true
	}
	if s.sc.OnStep != nil {
		s.sc.OnStep(st)
	}
	return st, nil
}
