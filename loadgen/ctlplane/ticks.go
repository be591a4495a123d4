package ctlplane

import "time"

// secondTicks calls a monitor's record once a second from its own goroutine, and once
// more, for the last partial second, when stopped.
type secondTicks struct {
	quit, done chan struct{}
}

// start begins calling record every second, with final false, and once with final
// true when stopped.
func (t *secondTicks) start(record func(final bool)) {
	t.quit, t.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(t.done)
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			select {
			case <-t.quit:
				record(true)
				return
			case <-tk.C:
				record(false)
			}
		}
	}()
}

// stop records the last, partial second and waits until the goroutine has ended.
func (t *secondTicks) stop() {
	close(t.quit)
	<-t.done
}

// mark is where a recorded second ended: the counts the next one starts from.
type mark interface {
	endAt() int64 // ns since the run's epoch
}

// secondMarks are a monitor's recorded seconds S, with the marks M at the end of the
// last one (prev) and at its start (beforePrev).
type secondMarks[M mark, S any] struct {
	prev, beforePrev M
	seconds          []S
}

// begin starts the second that ends now and returns its span in seconds, or false
// when it is not recorded: one of 10ms or less is skipped, except the final one, which
// reopens the last second recorded instead, so that the series adds up to the totals.
func (k *secondMarks[M, S]) begin(now int64, final bool) (float64, bool) {
	span := float64(now-k.prev.endAt()) / 1e9
	if span <= 0.01 {
		if !final || len(k.seconds) == 0 {
			return 0, false
		}
		k.prev = k.beforePrev
		k.seconds = k.seconds[:len(k.seconds)-1]
		span = float64(now-k.prev.endAt()) / 1e9
	}
	k.beforePrev = k.prev
	return span, true
}

// end records second s, which ended at next.
func (k *secondMarks[M, S]) end(s S, next M) {
	k.seconds = append(k.seconds, s)
	k.prev = next
}
