package ctlreport

import "github.com/larsgo/lars/loadgen/stats"

// ObjectiveGrammar is what a route service's objective may bound: the latency of
// every push, of the first and of the last agent to get each change, and of pulls.
var ObjectiveGrammar = stats.Grammar{
	Subjects:    []string{"push", "first", "last", "pull"},
	Percentiles: []string{"p50", "p90", "p99", "p999"},
	Example:     "push-p99=2s",
	Durations:   "2s or 500ms",
}

// ParseObjective parses limits such as "push-p99=2s" or "push-p50=500ms,last-p99=3s"
// (subjects push, first, last, pull; percentiles p50, p90, p99, p999 or p99.9; a bare
// "p99=2s" is push-p99). MaxLoss, the largest share of expected pushes that may not
// arrive, is left zero.
func ParseObjective(s string) (stats.Objective, error) { return ObjectiveGrammar.Parse(s) }

// CheckDNS judges a route service run by the objective o: every limit met, the
// missing pushes (lost with a closed connection included) at most MaxLoss of those
// expected, no connection refused or closed by the service, every agent ready, and
// at least one push.
func CheckDNS(o stats.Objective, r *DNSReport) *stats.Verdict {
	v := o.Judge("ms", func(l stats.Limit) float64 { return r.latencyOf(l.Of).percentile(l.Percentile) })
	if loss := r.Pushes.Loss(); loss > o.MaxLoss {
		v.Miss("%d of %d pushes missing (%.3g%%)", r.Pushes.Missing+r.Pushes.LostClosed, r.Pushes.Expected, loss*100)
	}
	if n := r.Connections.Refused + r.Connections.ClosedByService; n > 0 {
		v.Miss("%d connections refused or closed by the service", n)
	}
	if r.Connections.NotReady > 0 {
		v.Miss("%d agents never got their routes", r.Connections.NotReady)
	}
	if r.Pushes.Received == 0 {
		v.Miss("no push")
	}
	return v
}

// latencyOf returns the latency an objective's subject names.
func (r *DNSReport) latencyOf(subject string) Latency {
	switch subject {
	case "push":
		return r.Pushes.LatencyMS
	case "first":
		return r.Pushes.FirstMS
	case "last":
		return r.Pushes.LastMS
	case "pull":
		return r.Pulls.LatencyMS
	}
	return Latency{}
}
