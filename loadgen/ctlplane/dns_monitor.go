package ctlplane

import (
	"context"
	"fmt"

	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
)

// dnsMonitor records the per-second series of a route service run and writes the
// live line, from its own goroutine.
type dnsMonitor struct {
	r       *dnsRun
	start   int64 // ns since the epoch: the first change
	scraper *scraper
	secondTicks

	secondMarks[dnsMark, ctlreport.DNSSecond]
	curHist stats.Histogram
	secHist stats.Histogram
}

// dnsMark is where a recorded second ended: the counts the next one starts from.
type dnsMark struct {
	at      int64
	hist    stats.Histogram
	changes uint64
	closed  uint64
	metrics Metrics
}

func newDNSMonitor(r *dnsRun, start int64, s *scraper) *dnsMonitor {
	m := &dnsMonitor{r: r, start: start, scraper: s}
	m.prev.at = start
	if s != nil {
		m.prev.metrics = s.first
	}
	return m
}

// run starts recording once a second until stop.
func (m *dnsMonitor) run() { m.secondTicks.start(m.record) }

// record records the second since the last one (see secondMarks.begin).
func (m *dnsMonitor) record(final bool) {
	r := m.r
	now := r.now()
	span, ok := m.begin(now, final)
	if !ok {
		return
	}
	m.curHist = stats.Histogram{}
	for i := range r.pushLatency {
		r.pushLatency[i].AddTo(&m.curHist)
	}
	m.secHist.Sub(&m.curHist, &m.prev.hist)
	changes := r.committed.Load()
	closed := r.refused.Load() + r.closedByService.Load()
	l := summarize(&m.secHist)
	s := ctlreport.DNSSecond{T: float64(now-m.start) / 1e9, Span: span, Changes: changes - m.prev.changes, Pushes: l.Count,
		PushRate: float64(l.Count) / span, P50MS: l.P50, P99MS: l.P99, MaxMS: l.Max, Closed: closed - m.prev.closed}
	next := dnsMark{at: now, hist: m.curHist, changes: changes, closed: closed}
	if m.scraper != nil {
		cur := m.scraper.read(context.Background())
		if cur != nil && m.prev.metrics != nil {
			s.ServicePushes = counterDelta(m.prev.metrics, cur, "lars_dns_pushes_total")
			s.ServiceCPUS = counterDelta(m.prev.metrics, cur, "process_cpu_seconds_total")
		} else {
			s.ServicePushes, s.ServiceCPUS = -1, -1
		}
		next.metrics = cur
	}
	m.end(s, next)
	if w := r.cfg.Live; w != nil {
		fmt.Fprintf(w, "%5.1fs  changes %4d  pushes %7d (%8.0f/s)  push p50 %8.1fms  p99 %8.1fms  closed %d\n",
			s.T, s.Changes, s.Pushes, s.PushRate, s.P50MS, s.P99MS, s.Closed)
	}
}

func (k dnsMark) endAt() int64 { return k.at }
