package ctlplane

import (
	"context"
	"fmt"
)

// dnsMonitor records the per-second series of a route service run and writes the
// live line, from its own goroutine.
type dnsMonitor struct {
	r       *dnsRun
	start   int64 // ns since the epoch: the first change
	scraper *scraper
	secondTicks

	prevAt      int64
	prevHist    hist
	curHist     hist
	secHist     hist
	prevChanges uint64
	prevClosed  uint64
	prevMetrics Metrics
	seconds     []DNSSecond
}

func newDNSMonitor(r *dnsRun, start int64, s *scraper) *dnsMonitor {
	m := &dnsMonitor{r: r, start: start, scraper: s, prevAt: start}
	if s != nil {
		m.prevMetrics = s.first
	}
	return m
}

// run starts recording once a second until stop.
func (m *dnsMonitor) run() { m.secondTicks.start(m.record) }

func (m *dnsMonitor) record() {
	r := m.r
	now := r.now()
	span := float64(now-m.prevAt) / 1e9
	if span <= 0.01 {
		return
	}
	m.curHist = hist{}
	for i := range r.pushLatency {
		r.pushLatency[i].addTo(&m.curHist)
	}
	m.secHist.sub(&m.curHist, &m.prevHist)
	m.prevHist = m.curHist
	changes := r.committed.Load()
	closed := r.refused.Load() + r.closedByService.Load()
	l := m.secHist.summary()
	s := DNSSecond{T: float64(now-m.start) / 1e9, Span: span, Changes: changes - m.prevChanges, Pushes: l.Count,
		PushRate: float64(l.Count) / span, P50MS: l.P50, P99MS: l.P99, MaxMS: l.Max, Closed: closed - m.prevClosed}
	m.prevAt, m.prevChanges, m.prevClosed = now, changes, closed
	if m.scraper != nil {
		cur := m.scraper.read(context.Background())
		if cur != nil && m.prevMetrics != nil {
			s.ServicePushes = counterDelta(m.prevMetrics, cur, "lars_dns_pushes_total")
			s.ServiceCPUS = counterDelta(m.prevMetrics, cur, "process_cpu_seconds_total")
		} else {
			s.ServicePushes, s.ServiceCPUS = -1, -1
		}
		m.prevMetrics = cur
	}
	m.seconds = append(m.seconds, s)
	if w := r.cfg.Live; w != nil {
		fmt.Fprintf(w, "%5.1fs  changes %4d  pushes %7d (%8.0f/s)  push p50 %8.1fms  p99 %8.1fms  closed %d\n",
			s.T, s.Changes, s.Pushes, s.PushRate, s.P50MS, s.P99MS, s.Closed)
	}
}
