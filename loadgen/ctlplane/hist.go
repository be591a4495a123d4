package ctlplane

import (
	"math/bits"
	"slices"
	"sync/atomic"
)

// The histograms are log-linear: values under 2^histSubBits nanoseconds have a bucket
// each, and each power of two above is cut into histHalf equal buckets, so a value
// reported as its bucket's midpoint is within 1/256 (0.4%) of the true value. Values
// from 2^(histSubBits+histMaxShift) ns (about 73 minutes) up share the last bucket.
const (
	histSubBits  = 8
	histSub      = 1 << histSubBits // 256
	histHalf     = histSub / 2      // buckets per power of two
	histMaxShift = 34
	histBuckets  = histSub + histMaxShift*histHalf
)

// histIndex returns the bucket of v nanoseconds (negative values count as 0).
func histIndex(v int64) int {
	if v < histSub {
		return int(max(v, 0))
	}
	u := uint64(v)
	shift := bits.Len64(u) - histSubBits
	if shift > histMaxShift {
		return histBuckets - 1
	}
	return histSub + (shift-1)*histHalf + int(u>>uint(shift)) - histHalf
}

// histLow returns the smallest value of bucket i; histWidth its width.
func histLow(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	shift := (i-histSub)/histHalf + 1
	return int64((i-histSub)%histHalf+histHalf) << uint(shift)
}

func histWidth(i int) int64 {
	if i < histSub {
		return 1
	}
	return 1 << uint((i-histSub)/histHalf+1)
}

// histMid returns the midpoint of bucket i, the value a percentile in it reports.
func histMid(i int) float64 { return float64(histLow(i)) + float64(histWidth(i)-1)/2 }

// atomicHist is a histogram that many goroutines add to and one reads.
type atomicHist struct {
	b [histBuckets]atomic.Uint64
}

func (h *atomicHist) add(v int64) { h.b[histIndex(v)].Add(1) }

// addTo adds the histogram's counts to dst.
func (h *atomicHist) addTo(dst *hist) {
	for i := range h.b {
		if n := h.b[i].Load(); n != 0 {
			dst.b[i] += n
		}
	}
}

// hist is a histogram owned by one goroutine, or a snapshot.
type hist struct {
	b [histBuckets]uint64
}

func (h *hist) add(v int64) { h.b[histIndex(v)]++ }

func (h *hist) count() uint64 {
	var n uint64
	for _, c := range h.b {
		n += c
	}
	return n
}

// sub sets h to a - b, bucket by bucket (b a snapshot taken before a).
func (h *hist) sub(a, b *hist) {
	for i := range h.b {
		h.b[i] = a.b[i] - b.b[i]
	}
}

// quantile returns the value at quantile q (0..1) in nanoseconds by nearest rank, as
// its bucket's midpoint; 0 when empty.
func (h *hist) quantile(q float64) float64 {
	n := h.count()
	if n == 0 {
		return 0
	}
	rank := min(max(uint64(q*float64(n)+0.9999999), 1), n)
	var seen uint64
	for i, c := range h.b {
		if seen += c; seen >= rank {
			return histMid(i)
		}
	}
	return 0
}

// summary returns the histogram's latency summary in milliseconds.
func (h *hist) summary() Latency {
	var l Latency
	var sum float64
	first := -1
	last := 0
	for i, c := range h.b {
		if c == 0 {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
		l.Count += c
		sum += float64(c) * histMid(i)
	}
	if l.Count == 0 {
		return l
	}
	l.Min = float64(histLow(first)) / 1e6
	l.Max = float64(histLow(last)+histWidth(last)-1) / 1e6
	l.Mean = sum / float64(l.Count) / 1e6
	l.P50, l.P90, l.P99, l.P999 = h.quantile(0.5)/1e6, h.quantile(0.9)/1e6, h.quantile(0.99)/1e6, h.quantile(0.999)/1e6
	return l
}

// buckets returns the non-empty buckets, in milliseconds.
func (h *hist) buckets() []Bucket {
	out := []Bucket{}
	for i, c := range h.b {
		if c != 0 {
			lo := histLow(i)
			out = append(out, Bucket{LowMS: float64(lo) / 1e6, HighMS: float64(lo+histWidth(i)) / 1e6, Count: c})
		}
	}
	return out
}

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

// exactSummary returns the summary of ns (nanoseconds, sorted in place).
func exactSummary(ns []int64) Latency {
	var l Latency
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

// percentile returns the named percentile of l ("p50", "p90", "p99", "p999").
func (l Latency) percentile(name string) float64 {
	switch name {
	case "p50":
		return l.P50
	case "p90":
		return l.P90
	case "p99":
		return l.P99
	case "p999":
		return l.P999
	}
	return 0
}
