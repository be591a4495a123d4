package chaos

import (
	"strings"
	"testing"

	"github.com/larsgo/lars/loadgen/report"
)

// The verdicts of the fault tests and the soak are accounting: these tests run them on
// scripted figures, in every go test, so that what the long runs judge is known to
// judge right.

// TestUnansweredCountsLateAnswersAsAnswers: a request that timed out but whose answer
// came later is answered; a get_route duplicate stands for a late answer; a request
// the kernel refused to send is not the system's loss.
func TestUnansweredCountsLateAnswersAsAnswers(t *testing.T) {
	for _, c := range []struct {
		name                 string
		hTimeouts, hLate     uint64
		rTimeouts, rLate     uint64
		rDuplicates, sendErr uint64
		want                 uint64
	}{
		{"none timed out", 0, 0, 0, 0, 0, 0, 0},
		{"every timeout answered late", 5, 5, 3, 1, 2, 0, 0},
		{"get_host lost", 5, 3, 0, 0, 0, 0, 2},
		{"get_route lost", 0, 0, 4, 1, 1, 0, 2},
		{"losses the kernel refused to send", 5, 3, 4, 1, 1, 3, 1},
		{"more send errors than losses", 1, 0, 0, 0, 0, 9, 0},
		{"late answers beyond the timeouts", 1, 4, 0, 0, 0, 0, 0},
	} {
		var rep report.Report
		rep.ByType.GetHost.Timeouts, rep.ByType.GetHost.Late = c.hTimeouts, c.hLate
		rep.ByType.GetRoute.Timeouts, rep.ByType.GetRoute.Late, rep.ByType.GetRoute.Duplicates = c.rTimeouts, c.rLate, c.rDuplicates
		rep.SendErrors = c.sendErr
		if got := unanswered(&rep); got != c.want {
			t.Errorf("%s: unanswered = %d, want %d", c.name, got, c.want)
		}
	}
}

// TestLedgerImbalance: a quiet report path adds up exactly; each way of losing a
// status or a row without counting it is named.
func TestLedgerImbalance(t *testing.T) {
	good := reportLedger{emitted: 100, sent: 97, sendDrops: 3, frames: 97, results: 900, written: 500, coalesced: 390, dropped: 10}
	if s := good.imbalance(); s != "" {
		t.Fatalf("balanced ledger: %q", s)
	}
	for _, c := range []struct {
		name string
		edit func(*reportLedger)
		want string
	}{
		{"a status neither sent nor dropped", func(l *reportLedger) { l.emitted++ }, "the agent queued"},
		{"a status sent but not read", func(l *reportLedger) { l.frames-- }, "lars-reporter read 96"},
		{"a result neither written nor dropped", func(l *reportLedger) { l.results++ }, "lars-reporter read 901 results"},
		{"rows still held", func(l *reportLedger) { l.queued, l.results = 5, l.results+5 }, "still holds 5 rows"},
	} {
		l := good
		c.edit(&l)
		if s := l.imbalance(); !strings.Contains(s, c.want) {
			t.Errorf("%s: imbalance %q, want it to say %q", c.name, s, c.want)
		}
	}
}

// TestDroppedRowsBound: each status the agent dropped may carry a key's every host; a
// row lars-reporter dropped is one row.
func TestDroppedRowsBound(t *testing.T) {
	if got := (reportLedger{queueDrops: 1, sendDrops: 2, dropped: 7}).droppedRowsBound(); got != 307 {
		t.Fatalf("bound %v, want 307", got)
	}
	if got := (reportLedger{}).droppedRowsBound(); got != 0 {
		t.Fatalf("bound with no drop %v, want 0", got)
	}
}

// TestGrowthBound: the soak's growth check compares the means of the first and last
// quarter of the samples after the warm-up.
func TestGrowthBound(t *testing.T) {
	b := growthBound{what: "goroutines", value: func(s sample) float64 { return s.goroutines }, factor: 1, slack: 10}
	series := func(vals ...float64) []sample {
		out := make([]sample, len(vals))
		for i, v := range vals {
			out[i].goroutines = v
		}
		return out
	}
	for _, c := range []struct {
		name        string
		post        []sample
		first, last float64
		ok          bool
	}{
		{"flat", series(20, 20, 20, 20, 20, 20), 20, 20, true},
		{"within the slack", series(20, 20, 20, 30, 30, 30), 20, 30, true},
		{"past the slack", series(20, 20, 20, 31, 31, 31), 20, 31, false},
		{"a spike in the middle", series(20, 20, 20, 500, 500, 20, 20, 20), 20, 20, true},
		{"quarters of eight samples of 32", series(append(make([]float64, 24), 11, 11, 11, 11, 11, 11, 11, 11)...), 0, 11, false},
	} {
		first, last, ok := b.growth(c.post)
		if first != c.first || last != c.last || ok != c.ok {
			t.Errorf("%s: growth %v -> %v ok %v, want %v -> %v ok %v", c.name, first, last, ok, c.first, c.last, c.ok)
		}
	}
}

// TestRouteDifferences: a key missing on one side counts as no hosts; keys keep leaves
// out are not compared.
func TestRouteDifferences(t *testing.T) {
	agent := map[routeKey][]string{{1, 1}: {"10.0.0.1:80"}, {2, 1}: {"10.0.0.2:80"}, {9, 9}: {"x"}}
	store := map[routeKey][]string{{1, 1}: {"10.0.0.1:80"}, {3, 1}: {"10.0.0.3:80"}, {9, 9}: {"y"}}
	compared, diffs := routeDifferences(agent, store, func(_, cmdid int32) bool { return cmdid == 1 })
	want := []string{"2/1: agent [10.0.0.2:80], store []", "3/1: agent [], store [10.0.0.3:80]"}
	if compared != 3 || strings.Join(diffs, "; ") != strings.Join(want, "; ") {
		t.Fatalf("compared %d, differences %q; want 3, %q", compared, diffs, want)
	}
}
