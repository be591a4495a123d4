package loadgen

import (
	"math"
	"slices"

	"github.com/larsgo/lars/loadgen/report"
	"github.com/larsgo/lars/loadgen/stats"
	samplestats "github.com/montanaflynn/stats"
)

// report builds the Report once every goroutine of the run has stopped.
func (r *runner) report(end int64, interrupted bool, mon *monitor) *report.Report {
	var t tally
	t.addCounters(&r.sc)
	for _, l := range r.lanes {
		t.addCounters(&l.c)
	}
	m := &t[phaseMeasured]
	rep := r.reportHeader(interrupted, mon)
	span := r.measuredSpan(end, interrupted)
	rep.DurationS = span
	perSec := func(n uint64) float64 {
		if span <= 0 {
			return 0
		}
		return float64(n) / span
	}
	r.addAnswered(rep, m, perSec)
	rep.ReportsSent = m[fSent+int(KindReport)]
	rep.ByType.Report = report.TypeStats{Sent: rep.ReportsSent, Rate: perSec(rep.ReportsSent), ReportsAfter: m[fReportsAfter]}
	rep.Rate = perSec(rep.Received)
	rep.SendRate = perSec(rep.Sent + rep.ReportsSent)
	if rep.Sent > 0 {
		rep.Loss = float64(rep.Timeouts) / float64(rep.Sent)
	}
	rep.Malformed = m[fMalformed]
	rep.WrongKey = m[fWrongKey]
	rep.Refused = m[fRefused]
	rep.SendErrors = m[fSendErrors]
	rep.RingFull = m[fRingFull]
	for _, l := range r.lanes {
		r.sendLag.Merge(&l.lag)
	}
	rep.SendLagUS = report.Lag{P50: r.sendLag.Quantile(0.5) / 1e3, P99: r.sendLag.Quantile(0.99) / 1e3, Max: r.sendLag.Max() / 1e3}
	return rep
}

// reportHeader starts the Report with the run's mode and settings and the
// per-second series.
func (r *runner) reportHeader(interrupted bool, mon *monitor) *report.Report {
	cfg := &r.cfg
	rep := &report.Report{
		Schema:      report.SchemaVersion,
		Mode:        "closed",
		Concurrency: cfg.Concurrency,
		Start:       r.start,
		WarmupS:     cfg.Warmup.Seconds(),
		Interrupted: interrupted,
		Seconds:     mon.seconds,
	}
	if cfg.openLoop() {
		rep.Mode, rep.TargetRate, rep.Concurrency = "open", cfg.Rate, 0
	}
	if rep.Seconds == nil {
		rep.Seconds = []report.Second{}
	}
	return rep
}

// measuredSpan returns the measured span in seconds: it ends with the last request's
// intended send time, or, when the run ended by duration, at the end of that duration.
func (r *runner) measuredSpan(end int64, interrupted bool) float64 {
	cfg := &r.cfg
	last := r.endSend.Load()
	if cfg.Duration > 0 && !interrupted && cfg.Requests == 0 {
		last = r.measureFrom + int64(cfg.Duration)
	}
	last = min(max(last, r.measureFrom), end)
	return float64(last-r.measureFrom) / 1e9
}

// addAnswered fills the figures of the answered request types, get_host and
// get_route, from the measured counters m, and their sums and latency over both.
func (r *runner) addAnswered(rep *report.Report, m *[numFields]uint64, perSec func(uint64) float64) {
	var all []float64
	var allHist stats.Histogram
	allExact := true
	for k := range answered {
		ts := report.TypeStats{
			Sent:       m[fSent+k],
			Received:   m[fReceived+k],
			Timeouts:   m[fTimeouts+k],
			Late:       m[fLate+k],
			Duplicates: m[fDuplicates+k],
		}
		ts.Rate = perSec(ts.Received)
		var h stats.Histogram
		var samples []float64
		exact := true
		for _, l := range r.lanes {
			l.hist[phaseMeasured][k].AddTo(&h)
			samples = l.samples[k].appendTo(samples)
			exact = exact && l.samples[k].dropped.Load() == 0
		}
		ts.LatencyUS = summarize(samples, &h, exact)
		allHist.Merge(&h)
		all = append(all, samples...)
		allExact = allExact && exact
		rep.Sent += ts.Sent
		rep.Received += ts.Received
		rep.Timeouts += ts.Timeouts
		rep.Late += ts.Late
		rep.Duplicates += ts.Duplicates
		if k == int(KindGetHost) {
			rc := retcodes(m)
			rep.Retcodes = rc
			ts.Retcodes = &rc
			rep.ByType.GetHost = ts
		} else {
			rep.ByType.GetRoute = ts
		}
	}
	rep.LatencyUS = summarize(all, &allHist, allExact)
	rep.Histogram = bucketsUS(&allHist)
}

// retcodes returns the get_host retcodes counted in m.
func retcodes(m *[numFields]uint64) report.Retcodes {
	return report.Retcodes{
		Succ:        m[fRetcodes+retSucc],
		Overload:    m[fRetcodes+retOverload],
		SystemError: m[fRetcodes+retSystemError],
		NoExist:     m[fRetcodes+retNoExist],
		Other:       m[fRetcodes+retOther],
	}
}

// summarize computes the statistics of samples (microseconds) with the stats package
// when exact, else from the histogram h (nanoseconds).
func summarize(samples []float64, h *stats.Histogram, exact bool) report.Latency {
	if !exact {
		n := h.Count()
		if n == 0 {
			return report.Latency{}
		}
		return report.Latency{
			Count: n,
			Mean:  h.Mean() / 1e3,
			Min:   h.Quantile(0) / 1e3,
			P50:   h.Quantile(0.5) / 1e3,
			P90:   h.Quantile(0.9) / 1e3,
			P99:   h.Quantile(0.99) / 1e3,
			P999:  h.Quantile(0.999) / 1e3,
			P9999: h.Quantile(0.9999) / 1e3,
			Max:   h.Max() / 1e3,
		}
	}
	if len(samples) == 0 {
		return report.Latency{Exact: true}
	}
	slices.Sort(samples) // the stats functions copy and sort; sorted input sorts fast
	d := samplestats.Float64Data(samples)
	l := report.Latency{Count: uint64(len(samples)), Exact: true}
	l.Min, _ = d.Min()
	l.Max, _ = d.Max()
	l.Mean, _ = d.Mean()
	l.Stddev, _ = d.StandardDeviation()
	l.P50 = nearestRank(d, 50)
	l.P90 = nearestRank(d, 90)
	l.P99 = nearestRank(d, 99)
	l.P999 = nearestRank(d, 99.9)
	l.P9999 = nearestRank(d, 99.99)
	return l
}

// nearestRank returns the percentile by nearest rank: the smallest sample with at
// least p% of the samples at or below it, an actual sample.
func nearestRank(d samplestats.Float64Data, p float64) float64 {
	v, err := d.PercentileNearestRank(p)
	if err != nil || math.IsNaN(v) {
		return 0
	}
	return v
}

// bucketsUS returns the non-empty buckets of h in microseconds.
func bucketsUS(h *stats.Histogram) []report.Bucket {
	return stats.Bins(h, 1e3, func(low, high float64, n uint64) report.Bucket {
		return report.Bucket{LowUS: low, HighUS: high, Count: n}
	})
}
