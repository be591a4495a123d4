package ctlplane

import (
	"slices"

	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
)

// summarize returns the latency summary of h (nanoseconds) in milliseconds.
func summarize(h *stats.Histogram) ctlreport.Latency {
	l := ctlreport.Latency{Count: h.Count()}
	if l.Count == 0 {
		return l
	}
	l.Min, l.Max, l.Mean = h.Min()/1e6, h.Max()/1e6, h.Mean()/1e6
	l.P50, l.P90, l.P99, l.P999 = h.Quantile(0.5)/1e6, h.Quantile(0.9)/1e6, h.Quantile(0.99)/1e6, h.Quantile(0.999)/1e6
	return l
}

// bucketsMS returns the non-empty buckets of h in milliseconds.
func bucketsMS(h *stats.Histogram) []ctlreport.Bucket {
	return stats.Bins(h, 1e6, func(low, high float64, n uint64) ctlreport.Bucket {
		return ctlreport.Bucket{LowMS: low, HighMS: high, Count: n}
	})
}

// exactSummary returns the summary of ns (nanoseconds, sorted in place).
func exactSummary(ns []int64) ctlreport.Latency {
	var l ctlreport.Latency
	if len(ns) == 0 {
		return l
	}
	slices.Sort(ns)
	var sum float64
	for _, v := range ns {
		sum += float64(v)
	}
	at := func(q float64) float64 {
		rank := min(max(int(q*float64(len(ns))+0.9999999), 1), len(ns))
		return float64(ns[rank-1]) / 1e6
	}
	l.Count = uint64(len(ns))
	l.Min, l.Max = float64(ns[0])/1e6, float64(ns[len(ns)-1])/1e6
	l.Mean = sum / float64(len(ns)) / 1e6
	l.P50, l.P90, l.P99, l.P999 = at(0.5), at(0.9), at(0.99), at(0.999)
	return l
}
