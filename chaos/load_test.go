package chaos

import (
	"context"
	"fmt"
	"testing"

	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/report"
)

// load is a loadgen run in the background.
type load struct {
	cancel context.CancelFunc
	done   chan loadResult
	res    *loadResult // once waited for
}

type loadResult struct {
	rep *report.Report
	err error
}

// startLoad starts loadgen.Run(cfg); it runs until cfg.Duration or stop.
func startLoad(cfg loadgen.Config) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel, done: make(chan loadResult, 1)}
	go func() {
		rep, err := loadgen.Run(ctx, cfg)
		l.done <- loadResult{rep, err}
	}()
	return l
}

// wait waits for the end of the run and returns its report, failing t if it failed.
func (l *load) wait(t *testing.T) *report.Report {
	t.Helper()
	if l.res == nil {
		r := <-l.done
		l.res = &r
	}
	if l.res.err != nil {
		t.Fatalf("load: %v", l.res.err)
	}
	return l.res.rep
}

// stop ends the run now (the report covers what was sent) and waits for it; wait then
// returns its report.
func (l *load) stop() {
	l.cancel()
	if l.res == nil {
		r := <-l.done
		l.res = &r
	}
}

// loadTimeout is how long the load waits for each answer before counting it late (or,
// for a request whose answer never came, lost): the longest the load generator allows,
// because the machine may be shared, the load generator measures from each request's
// intended send time, and an answer that misses its run's final wait counts as lost.
const loadTimeout = loadgen.MaxTimeout

// checkEveryAnswerAHost fails t unless every request of the run was answered (late
// answers count: how long an answer took is the machine's speed, not the system's
// behaviour), every get_host with a host and once. Not the system's, and so forgiven:
// a request the kernel refused to send (counted by the load generator).
func checkEveryAnswerAHost(t *testing.T, rep *report.Report) {
	t.Helper()
	checkAnswers(t, rep, 0, "")
}

// unanswered is the number of requests of rep that got no answer at all, but for those
// the kernel refused to send. A get_route answer carries no sequence number: the load
// generator gives it to the oldest pending request of its key, and when a newer request
// of the key was answered already it counts a late answer as a duplicate; so each
// get_route duplicate stands for a late answer, not a second one.
func unanswered(rep *report.Report) uint64 {
	h, r := rep.ByType.GetHost, rep.ByType.GetRoute
	lost := h.Timeouts - min(h.Late, h.Timeouts) + r.Timeouts - min(r.Late+r.Duplicates, r.Timeouts)
	return lost - min(rep.SendErrors, lost)
}

// checkAnswers is checkEveryAnswerAHost where up to counted requests may be unanswered
// because a loss was counted on their way (dropped by the kernel or the agent, counted;
// how is said in counts).
func checkAnswers(t *testing.T, rep *report.Report, counted uint64, counts string) {
	t.Helper()
	h, r := rep.ByType.GetHost, rep.ByType.GetRoute
	if unanswered(rep) <= counted && rep.Retcodes.Succ == rep.Retcodes.Sum() && h.Duplicates == 0 {
		return
	}
	var lossy []string
	for _, sec := range rep.Seconds {
		if sec.Timeouts > 0 {
			lossy = append(lossy, fmt.Sprintf("%.0fs: %d of %d (%d late)", sec.T, sec.Timeouts, sec.Sent, sec.Late))
		}
	}
	t.Errorf("answers lost, doubled or refused: %d of %d requests unanswered (%d losses counted on the way%s), %d answered after %v, get_host retcodes %+v; "+
		"get_host %d sent, %d timeouts, %d late, %d answered twice; get_route %d sent, %d timeouts, %d late, %d duplicates; "+
		"the load generator's send lag p99 %.0f us, max %.0f us, %d datagrams it could not send, %d answers for another key, %d malformed; seconds with timeouts: %v",
		unanswered(rep), rep.Sent, counted, counts, rep.Late, loadTimeout, rep.Retcodes,
		h.Sent, h.Timeouts, h.Late, h.Duplicates, r.Sent, r.Timeouts, r.Late, r.Duplicates,
		rep.SendLagUS.P99, rep.SendLagUS.Max, rep.SendErrors, rep.WrongKey, rep.Malformed, firstFew(lossy))
}

// faultFigures says what the load saw during f: requests, lost ones, the worst p99 of
// the seconds it overlaps.
func faultFigures(rep *report.Report, f fault) string {
	var sent, lost, late uint64
	var p99 float64
	for _, sec := range rep.Seconds {
		if sec.T > f.start && sec.T-sec.Span < f.end {
			sent += sec.Sent
			lost += sec.Timeouts - min(sec.Late+sec.Duplicates, sec.Timeouts)
			late += sec.Late
			p99 = max(p99, sec.P99US)
		}
	}
	return fmt.Sprintf("%d requests during it, %d lost, %d late, worst per-second p99 %.0f us", sent, lost, late, p99)
}

// wholeRunRow is the table's row for the whole run.
func wholeRunRow(rep *report.Report) row {
	return row{"whole run", fmt.Sprintf("%d of %d requests answered with a host within %v", rep.Retcodes.Succ, rep.Sent, loadTimeout),
		fmt.Sprintf("%.0f answers/s, p99 %.0f us, p99.9 %.0f us; %d late (send lag max %.0f us)",
			rep.Rate, rep.LatencyUS.P99, rep.LatencyUS.P999, rep.Late, rep.SendLagUS.Max)}
}
