package report

import "github.com/larsgo/lars/loadgen/stats"

// DefaultMaxLoss is the loss the command line allows by default: 0.1%.
const DefaultMaxLoss = 0.001

// SLOGrammar is what an agent's objective may bound: percentiles of its one latency.
var SLOGrammar = stats.Grammar{
	Percentiles: []string{"p50", "p90", "p99", "p999", "p9999"},
	Example:     "p99=1ms",
	Durations:   "1ms or 500us",
}

// ParseSLO parses limits such as "p99=1ms" or "p50=200us,p99=1ms"; "p99.9" is
// accepted for p999 and "p99.99" for p9999. MaxLoss is left zero.
func ParseSLO(s string) (stats.Objective, error) { return SLOGrammar.Parse(s) }

// CheckSLO judges a report by the objective o: every percentile of LatencyUS at or
// under its limit, Loss at or under MaxLoss, and at least one answer.
func CheckSLO(o stats.Objective, r *Report) *stats.Verdict {
	l := &r.LatencyUS
	v := o.Judge("us", func(lim stats.Limit) float64 {
		return stats.Percentile(lim.Percentile, l.P50, l.P90, l.P99, l.P999, l.P9999)
	})
	v.CheckLoss(r.Loss, o.MaxLoss)
	if r.Received == 0 {
		v.Miss("no answer")
	}
	return v
}
