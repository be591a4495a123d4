package ctlplane

import (
	"strings"

	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
)

func spreadName(s loadgen.Spread) string {
	if s == loadgen.Zipf {
		return "zipf"
	}
	return "uniform"
}

// tally fills rep's counts once every reader has ended.
func (r *dnsRun) tally(rep *ctlreport.DNSReport, m *changeMaker, made, connected int, start, changeEnd int64) {
	c := &rep.Connections
	c.Connected = connected
	c.DialErrors, c.ClosedByService = r.dialErrors.Load(), r.closedByService.Load()
	c.Refused = c.DialErrors + r.refused.Load()
	rep.Pulls.Sent = uint64(connected) * uint64(r.cfg.Keys)
	rep.Pulls.Answered = r.pullsAnswered.Load()
	var pulls stats.Histogram
	r.pullLatency.AddTo(&pulls)
	rep.Pulls.LatencyMS = summarize(&pulls)

	// Each change holds one interval of the schedule: the span is at least made of them,
	// so that a short run of few changes does not seem faster than its rate.
	span := max(float64(changeEnd-start)/1e9, float64(made)/r.cfg.ChangesPerSec)
	rep.DurationS = span
	ch := &rep.Changes
	ch.Made, ch.Deferred = made, m.deferred
	if m.firstErr != nil {
		ch.FirstError = oneLine(m.firstErr.Error())
	}
	p := &rep.Pushes
	writes := make([]int64, 0, made)
	var firsts, lasts []int64
	for n := 1; n <= made; n++ {
		rec := &r.changes[n]
		writes = append(writes, rec.writeNs)
		if rec.failed.Load() {
			ch.Failed++
			continue
		}
		ch.Committed++
		exp, got, lost := uint64(rec.expected.Load()), uint64(rec.received.Load()), uint64(rec.lostClosed.Load())
		p.Expected += exp
		p.Received += got
		p.LostClosed += lost
		commit := rec.commitAt.Load()
		if got > 0 {
			firsts = append(firsts, max(rec.firstAt.Load()-commit, 0))
		}
		if got == exp && exp > 0 {
			p.CompleteChanges++
			lasts = append(lasts, max(rec.lastAt.Load()-commit, 0))
		}
	}
	p.Missing = p.Expected - p.Received - p.LostClosed
	ch.WriteMS = exactSummary(writes)
	p.FirstMS, p.LastMS = exactSummary(firsts), exactSummary(lasts)
	var all stats.Histogram
	for i := range r.pushLatency {
		r.pushLatency[i].AddTo(&all)
	}
	p.LatencyMS = summarize(&all)
	p.Histogram = bucketsMS(&all)
	p.Duplicates, p.Stale, p.Unexpected = r.duplicates.Load(), r.stale.Load(), r.unexpected.Load()
	p.Malformed, p.Early = r.malformed.Load(), r.early.Load()
	if span > 0 {
		ch.Rate = float64(ch.Committed) / span
		p.Rate = float64(p.Received) / span
	}
}

// oneLine returns s on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
