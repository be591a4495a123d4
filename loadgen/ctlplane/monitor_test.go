package ctlplane

import (
	"testing"
	"testing/synctest"
	"time"
)

// lastSecondCases are the ends of a run after a second's tick and the spans of the
// seconds the series must then hold: a 5ms sliver joins the second before it, 20ms
// is a second of its own.
var lastSecondCases = []struct {
	last  time.Duration
	spans []float64
}{
	{5 * time.Millisecond, []float64{1.005}},
	{20 * time.Millisecond, []float64{1, 0.02}},
}

// On the bubble's clock: a run that ends 5ms after a second's tick folds that last
// sliver into the second before it rather than dropping it, so the per-second series
// still adds up to the run's totals (a drain that ended just after a tick once lost 12
// pushes from the series); one that ends 20ms after has a second of its own.
func TestDNSMonitorLastSecondKept(t *testing.T) {
	for _, tc := range lastSecondCases {
		synctest.Test(t, func(t *testing.T) {
			r := &dnsRun{epoch: time.Now()}
			m := newDNSMonitor(r, 0, nil)
			time.Sleep(time.Second)
			r.committed.Add(3)
			r.pushLatency[0].Add(int64(5 * time.Millisecond))
			m.record(false)
			time.Sleep(tc.last)
			r.committed.Add(2)
			r.pushLatency[1].Add(int64(7 * time.Millisecond))
			r.pushLatency[1].Add(int64(9 * time.Millisecond))
			m.record(true)
			var changes, pushes uint64
			for _, s := range m.seconds {
				changes += s.Changes
				pushes += s.Pushes
			}
			if len(m.seconds) != len(tc.spans) || changes != 5 || pushes != 3 {
				t.Fatalf("last %v after a tick: %+v; want %d seconds of 5 changes and 3 pushes in all", tc.last, m.seconds, len(tc.spans))
			}
			for i, s := range m.seconds {
				if s.Span != tc.spans[i] || s.PushRate != float64(s.Pushes)/s.Span {
					t.Errorf("last %v after a tick: second %d %+v; want a span of %vs", tc.last, i, s, tc.spans[i])
				}
			}
		})
	}
}

// The same for the report service's series.
func TestRepMonitorLastSecondKept(t *testing.T) {
	for _, tc := range lastSecondCases {
		synctest.Test(t, func(t *testing.T) {
			r := &repRun{epoch: time.Now()}
			m := newRepMonitor(r, nil, nil)
			time.Sleep(time.Second)
			r.framesSent.Add(5)
			r.resultsSent.Add(50)
			m.record(false)
			time.Sleep(tc.last)
			r.framesSent.Add(2)
			r.resultsSent.Add(20)
			m.record(true)
			var frames, results uint64
			for _, s := range m.seconds {
				frames += s.Frames
				results += s.Results
			}
			if len(m.seconds) != len(tc.spans) || frames != 7 || results != 70 {
				t.Fatalf("last %v after a tick: %+v; want %d seconds of 7 frames and 70 results in all", tc.last, m.seconds, len(tc.spans))
			}
			for i, s := range m.seconds {
				if s.Span != tc.spans[i] || s.ResultRate != float64(s.Results)/s.Span {
					t.Errorf("last %v after a tick: second %d %+v; want a span of %vs", tc.last, i, s, tc.spans[i])
				}
			}
		})
	}
}
