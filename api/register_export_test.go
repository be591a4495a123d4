package api

import (
	"sync/atomic"
	"time"
)

// Hooks into registrations for the tests of package api_test.

// FakeTimers replaces a registration's keepalive timer: each timer the registration
// starts waits until the test fires it.
type FakeTimers struct{ armed chan *FakeTimer }

// FakeTimer is one timer a registration started.
type FakeTimer struct {
	D       time.Duration // how long the registration asked to wait
	ch      chan time.Time
	stopped atomic.Bool
}

// UseFakeTimers makes the registrations made with o start fake keepalive timers, and
// returns them.
func UseFakeTimers(o *RegisterOptions) *FakeTimers {
	ft := &FakeTimers{armed: make(chan *FakeTimer, 1024)}
	o.timers = func(d time.Duration) (<-chan time.Time, func() bool) {
		t := &FakeTimer{D: d, ch: make(chan time.Time, 1)}
		ft.armed <- t
		return t.ch, func() bool { return !t.stopped.Swap(true) }
	}
	return ft
}

// Next returns the next timer started and not stopped, waiting for up to within; nil
// when none was started by then.
func (ft *FakeTimers) Next(within time.Duration) *FakeTimer {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		select {
		case t := <-ft.armed:
			if !t.stopped.Load() {
				return t
			}
		case <-deadline.C:
			return nil
		}
	}
}

// Fire makes the timer fire.
func (t *FakeTimer) Fire() { t.ch <- time.Now() }

// SetAnswerWait sets how long registrations made with o wait for the answer to a
// keepalive or a deregistration, in place of the client's timeout.
func SetAnswerWait(o *RegisterOptions, d time.Duration) { o.answerWait = d }

// Poll bounds of a registration, for the tests of its schedule.
const (
	PollFirst = pollFirst
	PollMax   = pollMax
)
