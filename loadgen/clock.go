package loadgen

import "time"

// clock is an injected time source for a run (Config.clock), so that a test decides
// when every event of the run happens, however slow the machine: when each answer
// arrives, and so whether it is on time, late or the timeout comes first. Real runs
// have none: they read the monotonic clock and sleep with the pacer, and each hook
// below costs them a nil check.
//
// The contract that makes such a clock exact: the run reads the time only through
// now and wake, and only the sender waits for time to pass, through sleep. Every
// receiver brackets each blocking read with idle (it has finished with all it read
// before, including the requests and reports that called for) and wake (the read
// returned). So a clock may move time inside sleep only, once every receiver is
// idle, and every event then happens at the time it chose. A lane that drives its own
// window (lanedrive.go) sweeps when a read returns at or after its drive.sweepAt: a
// clock that moves time there wakes it by setting the socket's read deadline.
type clock interface {
	// begin is called once per run, with its sockets set up, before the receivers
	// start: until its first idle, each lane's receiver is busy.
	begin(r *runner)
	// now returns the clock's time in nanoseconds.
	now() int64
	// sleep is the sender's pause of d (positive); it may return sooner, when
	// something happened: the sender looks at the time and its work again anyway.
	sleep(d time.Duration)
	// idle is called by a receiver before each blocking read, with the number of
	// datagrams it has finished with since its previous read.
	idle(n int)
	// wake is called by a receiver when a blocking read returns; it returns now.
	wake() int64
}

// wake is now for a receiver whose read just returned (see clock).
func (r *runner) wake() int64 {
	if r.clk != nil {
		return r.clk.wake() - r.clkBase
	}
	return int64(time.Since(r.start))
}

// beforeRead tells an injected clock that the lane's receiver is about to block on a
// read, done with the datagrams it read before.
func (l *lane) beforeRead() {
	if c := l.r.clk; c != nil {
		c.idle(l.finished)
	}
	l.finished = 0
}

// sleep is the sender's pause: the pacer's, or the injected clock's.
func (s *sender) sleep(d time.Duration) {
	if c := s.r.clk; c != nil {
		c.sleep(d)
		return
	}
	s.pacer.sleep(d)
}
