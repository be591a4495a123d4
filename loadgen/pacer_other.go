//go:build !linux

package loadgen

import "time"

// pacer sleeps with Go's timers, which may wake up to a millisecond late on some
// systems: an open loop counts that lateness as latency (see send_lag_us).
type pacer struct{ t *time.Timer }

func newPacer() (*pacer, error) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &pacer{t: t}, nil
}

func (p *pacer) sleep(d time.Duration) {
	p.t.Reset(d)
	<-p.t.C
}

func (p *pacer) close() { p.t.Stop() }
