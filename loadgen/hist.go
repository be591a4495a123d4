package loadgen

import (
	"math/bits"
	"sync/atomic"
)

// The histogram is log-linear like HDR histograms: values below 2^histSubBits
// nanoseconds have a bucket each, and every power of two above is cut into
// 2^(histSubBits-1) equal buckets. A bucket is at most 1/128 of its lower bound wide,
// so a value reported as its bucket's midpoint is within 0.4% of the true value.
const (
	histSubBits  = 8
	histSubCount = 1 << histSubBits                     // 256
	histHalf     = histSubCount / 2                     // 128 buckets per power of two
	histBuckets  = (33-histSubBits)*histHalf + histHalf // covers the whole uint32 range
)

// HistogramError is the largest relative error of a percentile taken from the
// per-second histograms (bucket midpoint against the true value).
const HistogramError = 1.0 / (2 * histHalf)

// histIndex returns the bucket of v nanoseconds.
func histIndex(v uint32) int {
	if v < histSubCount {
		return int(v)
	}
	e := bits.Len32(v) - histSubBits // shift that brings v into [128, 256)
	return (e+1)*histHalf + int(v>>uint(e)) - histHalf
}

// histLow returns the smallest value of bucket i; histWidth its width.
func histLow(i int) uint64 {
	if i < histSubCount {
		return uint64(i)
	}
	e := i/histHalf - 1
	return uint64(i%histHalf+histHalf) << uint(e)
}

func histWidth(i int) uint64 {
	if i < histSubCount {
		return 1
	}
	return 1 << uint(i/histHalf-1)
}

// atomicHist is a histogram written by one goroutine and read by others.
type atomicHist struct {
	b [histBuckets]atomic.Uint64
}

func (h *atomicHist) add(v uint32) { h.b[histIndex(v)].Add(1) }

// addTo adds the histogram's counts to dst.
func (h *atomicHist) addTo(dst *hist) {
	for i := range h.b {
		if n := h.b[i].Load(); n != 0 {
			dst.b[i] += n
		}
	}
}

// hist is a plain histogram for one goroutine, or a snapshot.
type hist struct {
	b [histBuckets]uint64
}

func (h *hist) add(v uint32) { h.b[histIndex(v)]++ }

// count returns the number of values in the histogram.
func (h *hist) count() uint64 {
	var n uint64
	for _, c := range h.b {
		n += c
	}
	return n
}

// sub sets h to a - b, bucket by bucket.
func (h *hist) sub(a, b *hist) {
	for i := range h.b {
		h.b[i] = a.b[i] - b.b[i]
	}
}

// merge adds o to h.
func (h *hist) merge(o *hist) {
	for i := range h.b {
		h.b[i] += o.b[i]
	}
}

// quantile returns the value in nanoseconds at quantile q (0..1) by nearest rank,
// as its bucket's midpoint, or 0 for an empty histogram.
func (h *hist) quantile(q float64) float64 {
	n := h.count()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.9999999)
	rank = min(max(rank, 1), n)
	var seen uint64
	for i, c := range h.b {
		seen += c
		if seen >= rank {
			return float64(histLow(i)) + float64(histWidth(i)-1)/2
		}
	}
	return 0
}

// max returns the upper bound of the highest non-empty bucket, in nanoseconds.
func (h *hist) max() float64 {
	for i := len(h.b) - 1; i >= 0; i-- {
		if h.b[i] != 0 {
			return float64(histLow(i) + histWidth(i) - 1)
		}
	}
	return 0
}

// mean returns the mean of the bucket midpoints.
func (h *hist) mean() float64 {
	var n, sum float64
	for i, c := range h.b {
		if c != 0 {
			n += float64(c)
			sum += float64(c) * (float64(histLow(i)) + float64(histWidth(i)-1)/2)
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// buckets returns the non-empty buckets, in microseconds.
func (h *hist) buckets() []Bucket {
	out := []Bucket{}
	for i, c := range h.b {
		if c != 0 {
			lo := histLow(i)
			out = append(out, Bucket{LowUS: float64(lo) / 1e3, HighUS: float64(lo+histWidth(i)) / 1e3, Count: c})
		}
	}
	return out
}
