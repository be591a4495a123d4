package ctlplane

import (
	"testing"
	"time"
)

// A run that ends within 10ms of a second's tick: the last, tiny interval extends the
// second before it rather than being dropped, so the per-second series still adds up
// to the run's totals (a drain that ended just after a tick once lost 12 pushes from
// the series).
func TestDNSMonitorLastSecondKept(t *testing.T) {
	r := &dnsRun{epoch: time.Now().Add(-time.Second)}
	m := newDNSMonitor(r, 0, nil)
	r.committed.Add(3)
	r.pushLatency[0].add(int64(5 * time.Millisecond))
	m.record(false)
	r.committed.Add(2)
	r.pushLatency[1].add(int64(7 * time.Millisecond))
	r.pushLatency[1].add(int64(9 * time.Millisecond))
	m.record(true)
	if len(m.seconds) != 1 {
		t.Fatalf("%d seconds recorded, want 1: %+v", len(m.seconds), m.seconds)
	}
	s := m.seconds[0]
	if s.Changes != 5 || s.Pushes != 3 || s.Span < 1 {
		t.Errorf("second %+v: want 5 changes and 3 pushes over the whole run", s)
	}
}

// The same for the report service's series.
func TestRepMonitorLastSecondKept(t *testing.T) {
	r := &repRun{epoch: time.Now().Add(-time.Second)}
	m := newRepMonitor(r, nil, nil)
	r.framesSent.Add(5)
	r.resultsSent.Add(50)
	m.record(false)
	r.framesSent.Add(2)
	r.resultsSent.Add(20)
	m.record(true)
	if len(m.seconds) != 1 {
		t.Fatalf("%d seconds recorded, want 1: %+v", len(m.seconds), m.seconds)
	}
	if s := m.seconds[0]; s.Frames != 7 || s.Results != 70 || s.Span < 1 {
		t.Errorf("second %+v: want 7 frames and 70 results over the whole run", s)
	}
}
