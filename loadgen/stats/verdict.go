package stats

import (
	"fmt"
	"time"
)

// Verdict is an objective's judgement of a run.
type Verdict struct {
	// Objective is the objective as its Grammar parses it, with the loss limit.
	Objective string
	// Met is true when every check passed.
	Met bool
	// Checks are the latency checks, in the order of the limits.
	Checks []Check
	// Loss and MaxLoss are the run's loss and its limit, when CheckLoss judged them.
	Loss, MaxLoss float64
	// Reason says why the objective was missed, empty when met.
	Reason string

	lossChecked bool // CheckLoss judged the loss: the JSON shows Loss and MaxLoss
}

// Check is one latency check, in Unit ("us" or "ms").
type Check struct {
	Name         string
	Unit         string
	Limit, Value float64
	Met          bool
}

// Judge starts the verdict of o on a run whose latencies are in unit, "us" or "ms":
// it checks each limit against value(limit), the run's figure. Further reasons to
// miss are added with Miss and CheckLoss.
func (o Objective) Judge(unit string, value func(Limit) float64) *Verdict {
	scale := float64(time.Microsecond)
	if unit == "ms" {
		scale = float64(time.Millisecond)
	}
	v := &Verdict{Objective: o.String(), Met: true}
	for _, l := range o.Limits {
		c := Check{Name: l.Name(), Unit: unit, Limit: float64(l.Max) / scale, Value: value(l)}
		c.Met = c.Value <= c.Limit
		if !c.Met {
			v.Miss("%s %.1f%s > %.1f%s", c.Name, c.Value, unit, c.Limit, unit)
		}
		v.Checks = append(v.Checks, c)
	}
	return v
}

// Miss records that the objective was missed and why.
func (v *Verdict) Miss(format string, args ...any) {
	if !v.Met {
		v.Reason += ", "
	}
	v.Met = false
	v.Reason += fmt.Sprintf(format, args...)
}

// CheckLoss judges a run's loss against the objective's MaxLoss, both shares from 0
// to 1, and has the verdict show them.
func (v *Verdict) CheckLoss(loss, maxLoss float64) {
	v.Loss, v.MaxLoss, v.lossChecked = loss, maxLoss, true
	if loss > maxLoss {
		v.Miss("loss %.3g%% > %.3g%%", loss*100, maxLoss*100)
	}
}

// Summary is the verdict in a word, with the reason of a miss: "MET" or "MISSED:
// reason".
func (v *Verdict) Summary() string {
	if v.Met {
		return "MET"
	}
	return "MISSED: " + v.Reason
}

// StepVerdict is the verdict of one step of a capacity search in a table cell: "met"
// or "missed: reason".
func StepVerdict(met bool, reason string) string {
	if met {
		return "met"
	}
	return "missed: " + reason
}
