package report

import (
	"math"
	"time"

	"github.com/larsgo/lars/loadgen/stats"
)

// Reports built directly, as lars-loadgen would write them, for the chart and page
// tests: no network, and the same figures every time.

// fixtureLatency is a latency distribution through its percentiles, in microseconds.
type fixtureLatency struct{ min, p50, p99, p999, max float64 }

// quantile interpolates the distribution in log space between its percentiles.
func (d fixtureLatency) quantile(q float64) float64 {
	knots := []struct{ q, v float64 }{{0, d.min}, {0.5, d.p50}, {0.99, d.p99}, {0.999, d.p999}, {1, d.max}}
	for i := 1; i < len(knots); i++ {
		a, b := knots[i-1], knots[i]
		if q <= b.q {
			f := (q - a.q) / (b.q - a.q)
			return math.Exp(math.Log(a.v) + f*(math.Log(b.v)-math.Log(a.v)))
		}
	}
	return d.max
}

// fixtureRun is an open-loop run at rate for secs seconds with latencies d and the given
// loss; get_host 90%, get_route 5%, report 5% of the target. Its SLO is judged with slo
// when not nil.
func fixtureRun(rate float64, secs int, d fixtureLatency, loss float64, slo *stats.Objective) *Report {
	const n = 20000 // latencies drawn for the histogram and percentiles
	samples := make([]float64, n)
	for i := range samples {
		samples[i] = d.quantile((float64(i) + 0.5) / n)
	}
	var hist []Bucket
	for _, v := range samples {
		low := math.Pow(1.02, math.Floor(math.Log(v)/math.Log(1.02)))
		if len(hist) > 0 && hist[len(hist)-1].LowUS == low {
			hist[len(hist)-1].Count++
			continue
		}
		hist = append(hist, Bucket{LowUS: low, HighUS: low * 1.02, Count: 1})
	}
	at := func(q float64) float64 { return samples[min(n-1, int(q*n))] }
	lat := Latency{Count: n, Exact: true, Min: d.min, Mean: d.p50 * 1.1, Stddev: d.p50 / 3,
		P50: at(0.5), P90: at(0.9), P99: at(0.99), P999: at(0.999), P9999: at(0.9999), Max: d.max}
	answered := rate * 0.95 * float64(secs)
	sent := uint64(answered)
	timeouts := uint64(math.Round(float64(sent) * loss))
	received := sent - timeouts
	dur := float64(secs)
	r := &Report{Schema: SchemaVersion, Mode: "open", TargetRate: rate, Start: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		WarmupS: 1, DurationS: dur, Sent: sent, Received: received, Timeouts: timeouts,
		Rate: float64(received) / dur, SendRate: rate, Loss: float64(timeouts) / math.Max(1, float64(sent)),
		ReportsSent: uint64(rate * 0.05 * dur), LatencyUS: lat, Histogram: hist,
		SendLagUS: Lag{P50: 3, P99: 20, Max: 80}}
	gh := uint64(float64(sent) * 90 / 95)
	ghLost := uint64(float64(timeouts) * 90 / 95)
	r.ByType.GetHost = TypeStats{Sent: gh, Received: gh - ghLost, Timeouts: ghLost, Rate: float64(gh-ghLost) / dur, LatencyUS: lat}
	r.ByType.GetRoute = TypeStats{Sent: sent - gh, Received: received - (gh - ghLost), Timeouts: timeouts - ghLost,
		Rate: float64(received-(gh-ghLost)) / dur, LatencyUS: lat}
	r.ByType.Report = TypeStats{Sent: r.ReportsSent, Rate: float64(r.ReportsSent) / dur}
	r.Retcodes = Retcodes{Succ: gh - ghLost}
	r.ByType.GetHost.Retcodes = &Retcodes{Succ: gh - ghLost}
	for s := 1; s <= secs; s++ {
		wobble := 1 + 0.003*math.Sin(float64(s)) // 0.3% noise: must not look like a collapse
		perSent := uint64(float64(sent) / dur)
		perLost := uint64(float64(timeouts) / dur)
		r.Seconds = append(r.Seconds, Second{T: float64(s), Span: 1, Sent: perSent, Received: perSent - perLost, Timeouts: perLost,
			Rate: float64(perSent-perLost) * wobble, P50US: lat.P50 * wobble, P99US: lat.P99 * (2 - wobble), P999US: lat.P999 * wobble, MaxUS: lat.Max})
	}
	if slo != nil {
		r.SLO = CheckSLO(*slo, r)
	}
	return r
}

// fixtureSLO is p99 under 1 ms and loss under 0.1%.
var fixtureSLO = stats.Objective{Limits: []stats.Limit{{Percentile: "p99", Max: time.Millisecond}}, MaxLoss: 0.001}

// fixtureStep is one step: rate, attempt, and how the agent fared.
type fixtureStep struct {
	rate    float64
	attempt int
	p99     float64
	loss    float64
	limited bool
}

// fixtureSweep is a capacity search with retries and a bisection: 5k, 10k, 20k met;
// 40k missed twice; 30k met; 35k missed then met on its retry; 37.5k missed twice.
// Capacity 35000.
func fixtureSweep() *SweepReport {
	steps := []fixtureStep{
		{5000, 0, 120, 0, false},
		{10000, 0, 150, 0, false},
		{20000, 0, 260, 0.00002, false},
		{40000, 0, 4200, 0.02, false},
		{40000, 1, 3900, 0.015, false},
		{30000, 0, 520, 0, false},
		{35000, 0, 1150, 0.0004, false},
		{35000, 1, 880, 0.0001, false},
		{37500, 0, 1900, 0.003, false},
		{37500, 1, 1600, 0.002, false},
	}
	return buildSweep(steps)
}

func buildSweep(steps []fixtureStep) *SweepReport {
	s := &SweepReport{Schema: SweepSchemaVersion, Objective: fixtureSLO.String(), StepDurationS: 2}
	for _, f := range steps {
		d := fixtureLatency{min: 20, p50: f.p99 / 5, p99: f.p99, p999: f.p99 * 2.5, max: f.p99 * 6}
		r := fixtureRun(f.rate, 2, d, f.loss, &fixtureSLO)
		st := SweepStep{TargetRate: f.rate, Attempt: f.attempt, Met: r.SLO.Met, Reason: r.SLO.Reason, Report: r}
		if f.limited {
			st.Met, st.LoadgenLimited, st.Reason = false, true, "the load generator sent only 10/s"
		}
		s.Steps = append(s.Steps, st)
		if st.Met && f.rate > s.Capacity {
			s.Capacity, s.CapacityAnswers, s.Found = f.rate, r.Rate, true
		}
	}
	return s
}

// fixtureSweepB is fixtureSweep on a slower agent: every latency 30% up, capacity 30000.
func fixtureSweepB() *SweepReport {
	steps := []fixtureStep{
		{5000, 0, 150, 0, false},
		{10000, 0, 200, 0, false},
		{20000, 0, 340, 0, false},
		{40000, 0, 5400, 0.03, false},
		{40000, 1, 5000, 0.02, false},
		{30000, 0, 700, 0, false},
		{35000, 0, 1500, 0.0008, false},
		{35000, 1, 1400, 0.0006, false},
		{32500, 0, 1100, 0, false},
		{32500, 1, 1050, 0, false},
	}
	return buildSweep(steps)
}
