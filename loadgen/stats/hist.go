package stats

import (
	"math/bits"
	"sync/atomic"
)

// The histogram is log-linear like HDR histograms: values under 2^subBits nanoseconds
// have a bucket each, and every power of two above is cut into half equal buckets,
// so a value reported as its bucket's midpoint is within 1/256 (0.4%) of the true
// value. Values from 2^(subBits+maxShift) ns (about 73 minutes) up share the last
// bucket.
const (
	subBits  = 8
	sub      = 1 << subBits // 256
	half     = sub / 2      // buckets per power of two
	maxShift = 34
	buckets  = sub + maxShift*half
)

// HistogramError is the largest relative error of a percentile taken from a
// Histogram (bucket midpoint against the true value).
const HistogramError = 1.0 / (2 * half)

// bucketOf returns the bucket of v nanoseconds (negative values count as 0).
func bucketOf(v int64) int {
	if v < sub {
		return int(max(v, 0))
	}
	u := uint64(v)
	shift := bits.Len64(u) - subBits
	if shift > maxShift {
		return buckets - 1
	}
	return sub + (shift-1)*half + int(u>>uint(shift)) - half
}

// bucketLow returns the smallest value of bucket i; bucketWidth its width.
func bucketLow(i int) int64 {
	if i < sub {
		return int64(i)
	}
	shift := (i-sub)/half + 1
	return int64((i-sub)%half+half) << uint(shift)
}

func bucketWidth(i int) int64 {
	if i < sub {
		return 1
	}
	return 1 << uint((i-sub)/half+1)
}

// bucketMid returns the midpoint of bucket i, the value a percentile in it reports.
func bucketMid(i int) float64 { return float64(bucketLow(i)) + float64(bucketWidth(i)-1)/2 }

// AtomicHistogram is a histogram that goroutines add to while others read it.
type AtomicHistogram struct {
	b [buckets]atomic.Uint64
}

// Add counts a value of v nanoseconds.
func (h *AtomicHistogram) Add(v int64) { h.b[bucketOf(v)].Add(1) }

// AddTo adds the histogram's counts to dst.
func (h *AtomicHistogram) AddTo(dst *Histogram) {
	for i := range h.b {
		if n := h.b[i].Load(); n != 0 {
			dst.b[i] += n
		}
	}
}

// Histogram is a histogram of nanoseconds owned by one goroutine, or a snapshot. Its
// zero value is empty.
type Histogram struct {
	b [buckets]uint64
}

// Add counts a value of v nanoseconds.
func (h *Histogram) Add(v int64) { h.b[bucketOf(v)]++ }

// Count returns the number of values in the histogram.
func (h *Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.b {
		n += c
	}
	return n
}

// Sub sets h to a - b, bucket by bucket (b a snapshot taken before a).
func (h *Histogram) Sub(a, b *Histogram) {
	for i := range h.b {
		h.b[i] = a.b[i] - b.b[i]
	}
}

// Merge adds o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range h.b {
		h.b[i] += o.b[i]
	}
}

// Quantile returns the value in nanoseconds at quantile q (0..1) by nearest rank, as
// its bucket's midpoint, or 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) float64 {
	n := h.Count()
	if n == 0 {
		return 0
	}
	rank := min(max(uint64(q*float64(n)+0.9999999), 1), n)
	var seen uint64
	for i, c := range h.b {
		if seen += c; seen >= rank {
			return bucketMid(i)
		}
	}
	return 0
}

// Min returns the lower bound of the lowest non-empty bucket, in nanoseconds.
func (h *Histogram) Min() float64 {
	for i, c := range h.b {
		if c != 0 {
			return float64(bucketLow(i))
		}
	}
	return 0
}

// Max returns the upper bound of the highest non-empty bucket, in nanoseconds.
func (h *Histogram) Max() float64 {
	for i := len(h.b) - 1; i >= 0; i-- {
		if h.b[i] != 0 {
			return float64(bucketLow(i) + bucketWidth(i) - 1)
		}
	}
	return 0
}

// Mean returns the mean of the bucket midpoints, in nanoseconds.
func (h *Histogram) Mean() float64 {
	var n, sum float64
	for i, c := range h.b {
		if c != 0 {
			n += float64(c)
			sum += float64(c) * bucketMid(i)
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// Bins returns the non-empty buckets of h, lowest first, each made by bin from its
// bounds divided by unit (1e3 for microseconds) and its count: from low up to high
// (excluded). An empty histogram has an empty list, not nil.
func Bins[B any](h *Histogram, unit float64, bin func(low, high float64, count uint64) B) []B {
	out := []B{}
	for i, c := range h.b {
		if c != 0 {
			lo := bucketLow(i)
			out = append(out, bin(float64(lo)/unit, float64(lo+bucketWidth(i))/unit, c))
		}
	}
	return out
}
