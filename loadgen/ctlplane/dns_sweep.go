package ctlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
)

// DefaultStepDuration is the span of changes of each step of a route service search.
const DefaultStepDuration = 5 * time.Second

// A step whose changes fell short of its schedule did not test its target: fewer than
// changeShortfall of the changes due were made (no key was free), or making them took
// more than changeOverrun times the step plus changeSlack (the writes were slower than
// the rate; the slack forgives one stalled write, as a busy machine causes).
const (
	changeShortfall = 0.9
	changeOverrun   = 1.5
	changeSlack     = time.Second
)

// DNSSweepConfig describes a route service capacity search: runs of Run with rising
// agents (or change rates) until the objective is missed, then a bisection.
type DNSSweepConfig struct {
	// Run is every step's run; Agents (or ChangesPerSec) and Duration are set per step.
	Run DNSConfig
	// Over is SweepAgents (default) or SweepChanges.
	Over string
	// Search is the values tried; Start is required. Integer is set for agents.
	Search Search
	// Objective is what a step must meet.
	Objective stats.Objective
	// StepDuration is each step's span of changes. Default 5s.
	StepDuration time.Duration
	// OnStep, when not nil, is called after each step.
	OnStep func(ctlreport.DNSSweepStep)
}

// SweepDNS runs a route service capacity search.
func SweepDNS(ctx context.Context, sc DNSSweepConfig) (*ctlreport.DNSSweepReport, error) {
	switch sc.Over {
	case "":
		sc.Over = ctlreport.SweepAgents
	case ctlreport.SweepAgents, ctlreport.SweepChanges:
	default:
		return nil, fmt.Errorf("sweep over %q: want %s or %s", sc.Over, ctlreport.SweepAgents, ctlreport.SweepChanges)
	}
	if sc.Search.Start <= 0 {
		return nil, fmt.Errorf("sweep start %v: want a positive value", sc.Search.Start)
	}
	if sc.Search.Factor != 0 && sc.Search.Factor <= 1 {
		return nil, fmt.Errorf("sweep factor %v: must be above 1", sc.Search.Factor)
	}
	if sc.StepDuration <= 0 {
		sc.StepDuration = DefaultStepDuration
	}
	sc.Search.Integer = sc.Over == ctlreport.SweepAgents
	out := &ctlreport.DNSSweepReport{Schema: ctlreport.DNSSweepSchemaVersion, Over: sc.Over, Objective: sc.Objective.String(),
		StepDurationS: sc.StepDuration.Seconds(), Steps: []ctlreport.DNSSweepStep{}}
	best, found, interrupted, err := sc.Search.run(ctx, func(v float64, attempt int) (stepOutcome, error) {
		cfg := sc.Run
		cfg.Duration, cfg.Changes = sc.StepDuration, 0
		if sc.Over == ctlreport.SweepAgents {
			cfg.Agents = int(v)
		} else {
			cfg.ChangesPerSec = v
		}
		rep, err := RunDNS(ctx, cfg)
		if err != nil {
			return stepOutcome{}, err
		}
		rep.SLO = ctlreport.CheckDNS(sc.Objective, rep)
		st := ctlreport.DNSSweepStep{Value: v, Attempt: attempt, Met: rep.SLO.Met, Reason: rep.SLO.Reason, Report: rep}
		due := cfg.ChangesPerSec * sc.StepDuration.Seconds()
		switch {
		case rep.Interrupted:
		case float64(rep.Changes.Committed) < changeShortfall*due:
			st.Met = false
			st.Reason = joinReason(st.Reason, fmt.Sprintf("%d of the %.0f changes due were made", rep.Changes.Committed, due))
		case rep.DurationS > changeOverrun*sc.StepDuration.Seconds()+changeSlack.Seconds():
			st.Met = false
			st.Reason = joinReason(st.Reason, fmt.Sprintf("the changes took %.2fs for a %.2fs step", rep.DurationS, sc.StepDuration.Seconds()))
		}
		out.Steps = append(out.Steps, st)
		if sc.OnStep != nil {
			sc.OnStep(st)
		}
		return stepOutcome{met: st.Met}, nil
	})
	out.Capacity, out.Found, out.Interrupted = best, found, interrupted
	return out, err
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}
