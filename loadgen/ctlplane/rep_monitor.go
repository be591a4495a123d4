package ctlplane

import (
	"context"
	"fmt"
)

// repMonitor records the per-second series of a report service run and writes the
// live line, from its own goroutine.
type repMonitor struct {
	r       *repRun
	scraper *scraper
	counter *resultCounter
	secondTicks

	prevAt                  int64
	prevFrames, prevResults uint64
	prevStore               uint64
	storeOK                 bool
	prevMetrics             Metrics
	seconds                 []ReporterSecond
}

func newRepMonitor(r *repRun, sc *scraper, counter *resultCounter) *repMonitor {
	m := &repMonitor{r: r, scraper: sc, counter: counter}
	if sc != nil {
		m.prevMetrics = sc.first
	}
	if counter != nil {
		_, m.prevStore, _ = counter.count(context.Background())
		m.storeOK = true
	}
	return m
}

// run starts recording once a second until stop.
func (m *repMonitor) run() { m.secondTicks.start(m.record) }

func (m *repMonitor) record() {
	r := m.r
	now := r.now()
	span := float64(now-m.prevAt) / 1e9
	if span <= 0.01 {
		return
	}
	frames, results := r.framesSent.Load(), r.resultsSent.Load()
	s := ReporterSecond{T: float64(now) / 1e9, Span: span, Frames: frames - m.prevFrames, Results: results - m.prevResults}
	s.ResultRate = float64(s.Results) / span
	m.prevAt, m.prevFrames, m.prevResults = now, frames, results
	if m.scraper != nil {
		cur := m.scraper.read(context.Background())
		if cur != nil && m.prevMetrics != nil {
			s.ServiceResults = counterDelta(m.prevMetrics, cur, "lars_reporter_results_total")
			s.ServiceRows = counterDelta(m.prevMetrics, cur, "lars_reporter_rows_written_total")
			s.ServiceDropped = counterDelta(m.prevMetrics, cur, "lars_reporter_dropped_rows_total")
			s.QueueRows = cur.Sum("lars_reporter_queue_rows")
		} else {
			s.ServiceResults, s.ServiceRows, s.ServiceDropped, s.QueueRows = -1, -1, -1, -1
		}
		m.prevMetrics = cur
	}
	if m.counter != nil {
		_, stored, err := m.counter.count(context.Background())
		if err != nil {
			s.StoreResults = -1
		} else {
			s.StoreResults = float64(stored - min(m.prevStore, stored))
			m.prevStore = stored
		}
	}
	m.seconds = append(m.seconds, s)
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
