package ctlreport

import (
	"github.com/larsgo/lars/loadgen/stats"
)

// Latency summarises latencies in milliseconds. Percentiles are by nearest rank:
// exact when taken from every value (first and last push of each change, writes),
// within 0.4% when taken from a histogram (every push, pulls, per-second figures).
type Latency struct {
	Count uint64  `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// percentile returns the named percentile of l ("p50", "p90", "p99", "p999").
func (l Latency) percentile(name string) float64 {
	return stats.Percentile(name, l.P50, l.P90, l.P99, l.P999, 0)
}
