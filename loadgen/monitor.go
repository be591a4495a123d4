package loadgen

import (
	"fmt"
	"time"

	"github.com/larsgo/lars/loadgen/report"
	"github.com/larsgo/lars/loadgen/stats"
)

// monitorTick is how often the monitor refills the sample stores' spare chunks and
// looks at the clock for the per-second series.
const monitorTick = 50 * time.Millisecond

// monitor is the run's housekeeping goroutine: it keeps the receivers supplied with
// sample chunks, and once a second records an entry of the series and writes the live
// line.
type monitor struct {
	r    *runner
	quit chan struct{}

	measuring bool
	prevAt    int64 // ns: end of the last entry
	prevT     tally
	prevH     [numPhases]stats.Histogram
	curT      tally
	curH      [numPhases]stats.Histogram
	secH      stats.Histogram
	seconds   []report.Second
}

func newMonitor(r *runner) *monitor {
	return &monitor{r: r, quit: make(chan struct{})}
}

func (m *monitor) stop() { close(m.quit) }

func (m *monitor) run() {
	t := time.NewTicker(monitorTick)
	defer t.Stop()
	next := min(int64(time.Second), m.r.measureFrom)
	if next == 0 {
		m.measuring = true
	}
	for {
		select {
		case <-m.quit:
			if m.measuring {
				m.snapshot(m.r.now(), true)
			}
			return
		case <-t.C:
		}
		m.refill()
		now := m.r.now()
		if now < next {
			continue
		}
		if !m.measuring && next >= m.r.measureFrom {
			// The warm-up is over. Measured-phase counters started at zero, so the
			// series starts from zero at the end of the warm-up, not from now.
			m.measuring = true
			m.prevT, m.prevH, m.prevAt = tally{}, [numPhases]stats.Histogram{}, m.r.measureFrom
			next = m.r.measureFrom + int64(time.Second)
			continue
		}
		m.snapshot(now, false)
		next += int64(time.Second)
		if !m.measuring {
			next = min(next, m.r.measureFrom)
		}
	}
}

func (m *monitor) refill() {
	for _, l := range m.r.lanes {
		for _, s := range l.samples {
			s.refill()
		}
	}
}

// snapshot reads every counter and histogram, records (when measuring) and prints
// the interval since the previous snapshot, and makes this one the previous.
// A final snapshot with nothing to show is left out.
func (m *monitor) snapshot(now int64, final bool) {
	r := m.r
	m.curT = tally{}
	m.curT.addCounters(&r.sc)
	for p := range m.curH {
		m.curH[p] = stats.Histogram{}
	}
	for _, l := range r.lanes {
		m.curT.addCounters(&l.c)
		for p := range l.hist {
			for k := range l.hist[p] {
				l.hist[p][k].AddTo(&m.curH[p])
			}
		}
	}
	ph := phaseWarmup
	if m.measuring {
		ph = phaseMeasured
	}
	d := m.curT.sub(&m.prevT)
	m.secH.Sub(&m.curH[ph], &m.prevH[ph])
	s := makeSecond(&d[ph], &m.secH, float64(now-m.prevAt)/1e9, float64(now-r.measureFrom)/1e9)
	empty := s.Sent == 0 && s.Received == 0 && s.Timeouts == 0 && s.Late == 0 && s.Duplicates == 0 &&
		s.Malformed == 0 && s.Refused == 0
	if m.measuring && !(final && empty) {
		m.seconds = append(m.seconds, s)
	}
	if r.cfg.Live != nil && !(final && empty) {
		writeLive(r, s, !m.measuring)
	}
	m.prevAt = now
	m.prevT = m.curT
	m.prevH = m.curH
}

func makeSecond(d *[numFields]uint64, h *stats.Histogram, span, t float64) report.Second {
	s := report.Second{T: t, Span: span}
	for k := range answered {
		s.Sent += d[fSent+k]
		s.Received += d[fReceived+k]
		s.Timeouts += d[fTimeouts+k]
		s.Late += d[fLate+k]
		s.Duplicates += d[fDuplicates+k]
	}
	s.Malformed = d[fMalformed] + d[fWrongKey]
	s.Refused = d[fRefused]
	if span > 0 {
		s.Rate = float64(s.Received) / span
	}
	s.P50US = h.Quantile(0.5) / 1e3
	s.P99US = h.Quantile(0.99) / 1e3
	s.P999US = h.Quantile(0.999) / 1e3
	s.MaxUS = h.Max() / 1e3
	return s
}

func writeLive(r *runner, s report.Second, warmup bool) {
	label := fmt.Sprintf("%6.1fs", s.T)
	if warmup {
		label = "warm-up"
	}
	var sendRate float64
	if s.Span > 0 {
		sendRate = float64(s.Sent) / s.Span
	}
	fmt.Fprintf(r.cfg.Live, "%s  sent %9.0f/s  recv %9.0f/s  p99 %8.3fms  timeouts %d  late %d  dup %d  malformed %d  refused %d\n",
		label, sendRate, s.Rate, s.P99US/1e3, s.Timeouts, s.Late, s.Duplicates, s.Malformed, s.Refused)
}
