package ctlplane

import (
	"context"
	"fmt"

	"github.com/larsgo/lars/loadgen/stats"
)

// The route service's counters of its lease writes to the store (every kind:
// register, renew, expire).
const (
	leaseRowMetric       = "lars_dns_lease_db_rows_total"
	leaseStatementMetric = "lars_dns_lease_db_statements_total"
)

// regMonitor records the per-second series of a registration run and writes the live
// line, from its own goroutine.
type regMonitor struct {
	r       *regRun
	start   int64
	scraper *scraper
	secondTicks
	secondMarks[regMark, RegSecond]
}

// regHistSet is every subscriber's histograms merged.
type regHistSet struct {
	up, gone stats.Histogram
}

// regMark is where a recorded second ended.
type regMark struct {
	at                                    int64
	hists                                 regHistSet
	registered, dropped, expired, renewed uint64
	metrics                               Metrics
}

func (k regMark) endAt() int64 { return k.at }

func newRegMonitor(r *regRun, start int64, s *scraper) *regMonitor {
	m := &regMonitor{r: r, start: start, scraper: s}
	m.prev = m.mark(start)
	if s != nil {
		m.prev.metrics = s.first
	}
	return m
}

// mark returns the run's counts now.
func (m *regMonitor) mark(now int64) regMark {
	r := m.r
	k := regMark{at: now, registered: r.newSent.Load(), dropped: r.dropped.Load(), expired: r.expired.Load(), renewed: r.renewEntries.Load()}
	for _, s := range r.subscribers {
		if s != nil {
			s.h.steadyUp.AddTo(&k.hists.up)
			s.h.drop.AddTo(&k.hists.gone)
			s.h.expiry.AddTo(&k.hists.gone)
		}
	}
	return k
}

// run starts recording once a second until stop.
func (m *regMonitor) run() { m.secondTicks.start(m.record) }

// record records the second since the last one.
func (m *regMonitor) record(final bool) {
	r := m.r
	now := r.now()
	span, ok := m.begin(now, final)
	if !ok {
		return
	}
	next := m.mark(now)
	var up, gone stats.Histogram
	up.Sub(&next.hists.up, &m.prev.hists.up)
	gone.Sub(&next.hists.gone, &m.prev.hists.gone)
	ul, gl := summarize(&up), summarize(&gone)
	s := RegSecond{T: float64(now-m.start) / 1e9, Span: span, Registered: next.registered - m.prev.registered,
		Dropped: next.dropped - m.prev.dropped, Expired: next.expired - m.prev.expired, Renewed: next.renewed - m.prev.renewed,
		Appeared: ul.Count, Gone: gl.Count, RegisterP99MS: ul.P99, GoneP99MS: gl.P99}
	if m.scraper != nil {
		cur := m.scraper.read(context.Background())
		if cur != nil && m.prev.metrics != nil {
			s.ServiceCPUS = counterDelta(m.prev.metrics, cur, "process_cpu_seconds_total")
			s.ServiceLeaseRows = counterDelta(m.prev.metrics, cur, leaseRowMetric)
			s.ServiceLeaseStatements = counterDelta(m.prev.metrics, cur, leaseStatementMetric)
		} else {
			s.ServiceCPUS, s.ServiceLeaseRows, s.ServiceLeaseStatements = -1, -1, -1
		}
		next.metrics = cur
	}
	m.end(s, next)
	if w := r.cfg.Live; w != nil {
		fmt.Fprintf(w, "%5.1fs  new %5d  drop %5d  expire %5d  renew %7d  appeared %7d (p99 %7.1fms)  gone %7d (p99 %7.1fms)\n",
			s.T, s.Registered, s.Dropped, s.Expired, s.Renewed, s.Appeared, s.RegisterP99MS, s.Gone, s.GoneP99MS)
	}
}
