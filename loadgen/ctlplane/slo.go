package ctlplane

import (
	"fmt"
	"strings"
	"time"
)

// Objective is a route service's objective: latency limits on the pushes (and pulls)
// of a run, at most MaxLoss of the expected pushes missing, and no connection refused
// or closed by the service.
type Objective struct {
	Limits []Limit
	// MaxLoss is the largest share (0..1) of expected pushes that may not arrive,
	// those lost with a connection the service closed included. Default 0.
	MaxLoss float64
}

// Limit bounds one percentile of one latency.
type Limit struct {
	// Of is what is measured: "push" (every push), "first" (the first agent to get
	// each change), "last" (the last agent to get each change) or "pull".
	Of string
	// Percentile is p50, p90, p99 or p999.
	Percentile string
	// Max is the largest acceptable value.
	Max time.Duration
}

var (
	limitSubjects    = []string{"push", "first", "last", "pull"}
	limitPercentiles = []string{"p50", "p90", "p99", "p999"}
)

// ParseObjective parses limits such as "push-p99=2s" or "push-p50=500ms,last-p99=3s"
// (subjects push, first, last, pull; percentiles p50, p90, p99, p999 or p99.9; a bare
// "p99=2s" is push-p99). MaxLoss is left zero.
func ParseObjective(s string) (Objective, error) {
	var o Objective
	for _, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return o, fmt.Errorf("invalid objective %q: want WHAT-pNN=DURATION, e.g. push-p99=2s", part)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		of, pct, found := strings.Cut(name, "-")
		if !found {
			of, pct = "push", name
		}
		if pct == "p99.9" {
			pct = "p999"
		}
		if !contains(limitSubjects, of) {
			return o, fmt.Errorf("invalid objective %q: measure one of push, first, last, pull", part)
		}
		if !contains(limitPercentiles, pct) {
			return o, fmt.Errorf("invalid objective %q: percentile one of p50, p90, p99, p999", part)
		}
		d, err := time.ParseDuration(strings.TrimSpace(val))
		if err != nil || d <= 0 {
			return o, fmt.Errorf("invalid objective %q: want a positive duration such as 2s or 500ms", part)
		}
		o.Limits = append(o.Limits, Limit{Of: of, Percentile: pct, Max: d})
	}
	return o, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String returns the objective in ParseObjective's form, with the loss limit.
func (o Objective) String() string {
	var b strings.Builder
	for i, l := range o.Limits {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s-%s=%v", l.Of, l.Percentile, l.Max)
	}
	fmt.Fprintf(&b, " loss<=%g%%", o.MaxLoss*100)
	return b.String()
}

// Verdict is an objective's judgement of a run.
type Verdict struct {
	// Objective is the objective in ParseObjective's form, with the loss limit.
	Objective string `json:"objective"`
	// Met is true when every check passed.
	Met bool `json:"met"`
	// Checks are the latency checks, in the order given.
	Checks []Check `json:"checks"`
	// Reason says why the objective was missed, empty when met.
	Reason string `json:"reason,omitempty"`
}

// Check is one latency check, in milliseconds.
type Check struct {
	Name    string  `json:"name"`
	LimitMS float64 `json:"limit_ms"`
	ValueMS float64 `json:"value_ms"`
	Met     bool    `json:"met"`
}

// Check judges a route service run: every limit met, the missing pushes (lost with a
// closed connection included) at most MaxLoss of those expected, no connection
// refused or closed by the service, every agent ready, and at least one push.
func (o Objective) Check(r *DNSReport) *Verdict {
	v := &Verdict{Objective: o.String(), Met: true}
	var reasons []string
	for _, l := range o.Limits {
		var lat Latency
		switch l.Of {
		case "push":
			lat = r.Pushes.LatencyMS
		case "first":
			lat = r.Pushes.FirstMS
		case "last":
			lat = r.Pushes.LastMS
		case "pull":
			lat = r.Pulls.LatencyMS
		}
		c := Check{Name: l.Of + "-" + l.Percentile, LimitMS: float64(l.Max) / 1e6, ValueMS: lat.percentile(l.Percentile)}
		c.Met = c.ValueMS <= c.LimitMS
		if !c.Met {
			reasons = append(reasons, fmt.Sprintf("%s %.1fms > %.1fms", c.Name, c.ValueMS, c.LimitMS))
		}
		v.Checks = append(v.Checks, c)
	}
	if loss := r.Pushes.Loss(); loss > o.MaxLoss {
		reasons = append(reasons, fmt.Sprintf("%d of %d pushes missing (%.3g%%)", r.Pushes.Missing+r.Pushes.LostClosed, r.Pushes.Expected, loss*100))
	}
	if n := r.Connections.Refused + r.Connections.ClosedByService; n > 0 {
		reasons = append(reasons, fmt.Sprintf("%d connections refused or closed by the service", n))
	}
	if r.Connections.NotReady > 0 {
		reasons = append(reasons, fmt.Sprintf("%d agents never got their routes", r.Connections.NotReady))
	}
	if r.Pushes.Received == 0 {
		reasons = append(reasons, "no push")
	}
	if len(reasons) > 0 {
		v.Met = false
		v.Reason = strings.Join(reasons, ", ")
	}
	return v
}
