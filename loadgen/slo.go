package loadgen

import (
	"fmt"
	"strings"
	"time"
)

// DefaultMaxLoss is the loss the command line allows by default: 0.1%.
const DefaultMaxLoss = 0.001

// SLO is a service level objective: latency percentiles under limits and a loss
// ratio under MaxLoss (zero allows no loss at all).
type SLO struct {
	Limits  []Limit
	MaxLoss float64
}

// Limit bounds one latency percentile.
type Limit struct {
	// Name is the percentile's name: p50, p90, p99, p999 or p9999.
	Name string
	// Max is the largest acceptable value.
	Max time.Duration
}

// percentiles are the names a Limit accepts.
var percentiles = []string{"p50", "p90", "p99", "p999", "p9999"}

// ParseSLO parses limits such as "p99=1ms" or "p50=200us,p99=1ms"; "p99.9" is
// accepted for p999 and "p99.99" for p9999. MaxLoss is left zero.
func ParseSLO(s string) (SLO, error) {
	var slo SLO
	for _, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return slo, fmt.Errorf("invalid objective %q: want pNN=DURATION, e.g. p99=1ms", part)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		switch name {
		case "p99.9":
			name = "p999"
		case "p99.99":
			name = "p9999"
		}
		known := false
		for _, p := range percentiles {
			known = known || p == name
		}
		if !known {
			return slo, fmt.Errorf("invalid objective %q: percentile must be one of p50, p90, p99, p999, p9999", part)
		}
		d, err := time.ParseDuration(strings.TrimSpace(val))
		if err != nil || d <= 0 {
			return slo, fmt.Errorf("invalid objective %q: want a positive duration such as 1ms or 500us", part)
		}
		slo.Limits = append(slo.Limits, Limit{Name: name, Max: d})
	}
	return slo, nil
}

// String returns the objective in ParseSLO's form, with the loss limit.
func (s SLO) String() string {
	var b strings.Builder
	for i, l := range s.Limits {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%v", l.Name, l.Max)
	}
	fmt.Fprintf(&b, " loss<=%g%%", s.MaxLoss*100)
	return b.String()
}

// SLOResult is the verdict of an SLO on a report.
type SLOResult struct {
	// Objective is the SLO in ParseSLO's form, with the loss limit.
	Objective string `json:"objective"`
	// Met is true when every check passed.
	Met bool `json:"met"`
	// Checks are the latency checks, in the order given.
	Checks []SLOCheck `json:"checks"`
	// Loss and MaxLoss are the run's loss ratio and the limit.
	Loss    float64 `json:"loss"`
	MaxLoss float64 `json:"max_loss"`
	// Reason says why the objective was missed, empty when met.
	Reason string `json:"reason,omitempty"`
}

// SLOCheck is one percentile check.
type SLOCheck struct {
	Name    string  `json:"name"`
	LimitUS float64 `json:"limit_us"`
	ValueUS float64 `json:"value_us"`
	Met     bool    `json:"met"`
}

// Check judges a report: every percentile of LatencyUS at or under its limit, Loss
// at or under MaxLoss, and at least one answer.
func (s SLO) Check(r *Report) *SLOResult {
	res := &SLOResult{Objective: s.String(), Met: true, Loss: r.Loss, MaxLoss: s.MaxLoss}
	var reasons []string
	for _, l := range s.Limits {
		v := percentileOf(&r.LatencyUS, l.Name)
		lim := float64(l.Max) / 1e3
		c := SLOCheck{Name: l.Name, LimitUS: lim, ValueUS: v, Met: v <= lim}
		if !c.Met {
			reasons = append(reasons, fmt.Sprintf("%s %.1fus > %.1fus", l.Name, v, lim))
		}
		res.Checks = append(res.Checks, c)
	}
	if r.Loss > s.MaxLoss {
		reasons = append(reasons, fmt.Sprintf("loss %.3g%% > %.3g%%", r.Loss*100, s.MaxLoss*100))
	}
	if r.Received == 0 {
		reasons = append(reasons, "no answer")
	}
	if len(reasons) > 0 {
		res.Met = false
		res.Reason = strings.Join(reasons, ", ")
	}
	return res
}

func percentileOf(l *Latency, name string) float64 {
	switch name {
	case "p50":
		return l.P50
	case "p90":
		return l.P90
	case "p99":
		return l.P99
	case "p999":
		return l.P999
	case "p9999":
		return l.P9999
	}
	return 0
}
