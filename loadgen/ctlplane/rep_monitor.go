package ctlplane

import (
	"context"
	"fmt"

	"github.com/larsgo/lars/loadgen/report/ctlreport"
)

// repMonitor records the per-second series of a report service run and writes the
// live line, from its own goroutine.
type repMonitor struct {
	r       *repRun
	scraper *scraper
	counter *resultCounter
	secondTicks

	secondMarks[repMark, ctlreport.ReporterSecond]
}

// repMark is where a recorded second ended: the counts the next one starts from.
type repMark struct {
	at              int64
	frames, results uint64
	store           uint64
	metrics         Metrics
}

func newRepMonitor(r *repRun, sc *scraper, counter *resultCounter) *repMonitor {
	m := &repMonitor{r: r, scraper: sc, counter: counter}
	if sc != nil {
		m.prev.metrics = sc.first
	}
	if counter != nil {
		_, m.prev.store, _ = counter.count(context.Background())
	}
	return m
}

// run starts recording once a second until stop.
func (m *repMonitor) run() { m.secondTicks.start(m.record) }

// record records the second since the last one (see secondMarks.begin).
func (m *repMonitor) record(final bool) {
	r := m.r
	now := r.now()
	span, ok := m.begin(now, final)
	if !ok {
		return
	}
	frames, results := r.framesSent.Load(), r.resultsSent.Load()
	s := ctlreport.ReporterSecond{T: float64(now) / 1e9, Span: span, Frames: frames - m.prev.frames, Results: results - m.prev.results}
	s.ResultRate = float64(s.Results) / span
	next := repMark{at: now, frames: frames, results: results, store: m.prev.store}
	if m.scraper != nil {
		cur := m.scraper.read(context.Background())
		if cur != nil && m.prev.metrics != nil {
			s.ServiceResults = counterDelta(m.prev.metrics, cur, "lars_reporter_results_total")
			s.ServiceRows = counterDelta(m.prev.metrics, cur, "lars_reporter_rows_written_total")
			s.ServiceDropped = counterDelta(m.prev.metrics, cur, "lars_reporter_dropped_rows_total")
			s.QueueRows = cur.Sum("lars_reporter_queue_rows")
		} else {
			s.ServiceResults, s.ServiceRows, s.ServiceDropped, s.QueueRows = -1, -1, -1, -1
		}
		next.metrics = cur
	}
	if m.counter != nil {
		_, stored, err := m.counter.count(context.Background())
		if err != nil {
			s.StoreResults = -1
		} else {
			s.StoreResults = float64(stored - min(m.prev.store, stored))
			next.store = stored
		}
	}
	m.end(s, next)
	if w := r.cfg.Live; w != nil {
		fmt.Fprintf(w, "%5.1fs  frames %7d  results %8d (%9.0f/s)", s.T, s.Frames, s.Results, s.ResultRate)
		if m.scraper != nil {
			fmt.Fprintf(w, "  service: read %8.0f  written %8.0f  dropped %6.0f  queued %7.0f", s.ServiceResults, s.ServiceRows, s.ServiceDropped, s.QueueRows)
		}
		if m.counter != nil {
			fmt.Fprintf(w, "  store +%.0f", s.StoreResults)
		}
		fmt.Fprintln(w)
	}
}

func (k repMark) endAt() int64 { return k.at }
