package stats

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Objective is a service level objective: latency percentiles under limits and a
// loss under MaxLoss (zero allows no loss at all).
type Objective struct {
	Limits []Limit
	// MaxLoss is the largest acceptable loss, a share from 0 to 1.
	MaxLoss float64
}

// Limit bounds one percentile of one latency.
type Limit struct {
	// Of is what is measured, empty where a run has one latency.
	Of string
	// Percentile is the percentile's name: p50, p90, p99, p999 or p9999.
	Percentile string
	// Max is the largest acceptable value.
	Max time.Duration
}

// Name returns the limit's name as written: the percentile, after what is measured
// and a dash when that is named ("p99", "push-p99").
func (l Limit) Name() string {
	if l.Of == "" {
		return l.Percentile
	}
	return l.Of + "-" + l.Percentile
}

// String returns the objective as its Grammar parses it, with the loss limit.
func (o Objective) String() string {
	var b strings.Builder
	for i, l := range o.Limits {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%v", l.Name(), l.Max)
	}
	fmt.Fprintf(&b, " loss<=%g%%", o.MaxLoss*100)
	return b.String()
}

// Grammar is what the limits of an objective may name.
type Grammar struct {
	// Subjects are what may be measured, the first when none is named; nil when a
	// run has one latency and a limit names only its percentile.
	Subjects []string
	// Percentiles are the percentiles a limit may bound; p99.9 and p99.99 are read
	// as p999 and p9999.
	Percentiles []string
	// Example is a limit and Durations two durations, for the error messages.
	Example, Durations string
}

// Parse parses limits such as "p99=1ms" or "push-p50=500ms,last-p99=3s" (a
// percentile alone bounds the first subject). MaxLoss is left zero.
func (g Grammar) Parse(s string) (Objective, error) {
	var o Objective
	form := "pNN=DURATION"
	if g.Subjects != nil {
		form = "WHAT-pNN=DURATION"
	}
	for _, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return o, fmt.Errorf("invalid objective %q: want %s, e.g. %s", part, form, g.Example)
		}
		var l Limit
		l.Percentile = strings.ToLower(strings.TrimSpace(name))
		if g.Subjects != nil {
			var found bool
			if l.Of, l.Percentile, found = strings.Cut(l.Percentile, "-"); !found {
				l.Of, l.Percentile = g.Subjects[0], l.Of
			}
			if !slices.Contains(g.Subjects, l.Of) {
				return o, fmt.Errorf("invalid objective %q: measure one of %s", part, strings.Join(g.Subjects, ", "))
			}
		}
		switch l.Percentile {
		case "p99.9":
			l.Percentile = "p999"
		case "p99.99":
			l.Percentile = "p9999"
		}
		if !slices.Contains(g.Percentiles, l.Percentile) {
			return o, fmt.Errorf("invalid objective %q: percentile must be one of %s", part, strings.Join(g.Percentiles, ", "))
		}
		var err error
		if l.Max, err = time.ParseDuration(strings.TrimSpace(val)); err != nil || l.Max <= 0 {
			return o, fmt.Errorf("invalid objective %q: want a positive duration such as %s", part, g.Durations)
		}
		o.Limits = append(o.Limits, l)
	}
	return o, nil
}

// Percentile returns the named percentile ("p50", "p90", "p99", "p999", "p9999") of
// the five given, or 0 for another name.
func Percentile(name string, p50, p90, p99, p999, p9999 float64) float64 {
	switch name {
	case "p50":
		return p50
	case "p90":
		return p90
	case "p99":
		return p99
	case "p999":
		return p999
	case "p9999":
		return p9999
	}
	return 0
}
