package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	vals := make([]float64, 0, 100000)
	for range cap(vals) {
		v := int64(rng.ExpFloat64() * 200e3) // around 200us
		h.Add(v)
		vals = append(vals, float64(v))
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := h.Quantile(q)
		if math.Abs(got-exact) > exact*HistogramError+1 {
			t.Errorf("q%v: histogram %v, exact %v: beyond %.2f%%", q, got, exact, HistogramError*100)
		}
	}
}

func TestHistogramBuckets(t *testing.T) {
	for _, v := range []int64{0, 1, 255, 256, 257, 511, 512, 1000, 123456, 1 << 20, 999_999_999, math.MaxUint32, 5e9, 1 << 41} {
		i := bucketOf(v)
		lo, w := bucketLow(i), bucketWidth(i)
		if v < lo || v >= lo+w || i >= buckets {
			t.Errorf("%d in bucket %d [%d, %d)", v, i, lo, lo+w)
		}
		if v > 0 && math.Abs(bucketMid(i)-float64(v))/float64(v) > HistogramError {
			t.Errorf("%d reported as %v", v, bucketMid(i))
		}
	}
	if bucketOf(math.MaxInt64) != buckets-1 || bucketOf(-5) != 0 {
		t.Error("values out of range do not land in the end buckets")
	}
}

func TestHistogramFigures(t *testing.T) {
	var a AtomicHistogram
	for v := int64(1); v <= 1000; v++ {
		a.Add(v * int64(time.Millisecond))
	}
	var h Histogram
	a.AddTo(&h)
	ms := func(ns float64) float64 { return ns / 1e6 }
	if h.Count() != 1000 || math.Abs(ms(h.Quantile(0.5))-500) > 2 || math.Abs(ms(h.Quantile(0.99))-990) > 4 ||
		math.Abs(ms(h.Max())-1000) > 4 || math.Abs(ms(h.Min())-1) > 0.004 || math.Abs(ms(h.Mean())-500.5) > 2 {
		t.Errorf("1..1000ms: count %d, p50 %v, p99 %v, min %v, max %v, mean %v", h.Count(),
			ms(h.Quantile(0.5)), ms(h.Quantile(0.99)), ms(h.Min()), ms(h.Max()), ms(h.Mean()))
	}
	var before, d Histogram
	before.Add(1)
	h.Merge(&before)
	d.Sub(&h, &before)
	type bin struct {
		low, high float64
		n         uint64
	}
	toBin := func(low, high float64, n uint64) bin { return bin{low, high, n} }
	if bins := Bins(&d, 1e6, toBin); d.Count() != 1000 || bins[0].n != 1 || bins[0].low > 1 || bins[0].high <= 1 {
		t.Errorf("difference %d values, bins %v", d.Count(), bins[:min(len(bins), 2)])
	}
	var empty Histogram
	if empty.Quantile(0.5) != 0 || empty.Max() != 0 || empty.Mean() != 0 || len(Bins(&empty, 1, toBin)) != 0 {
		t.Error("an empty histogram has figures")
	}
}
