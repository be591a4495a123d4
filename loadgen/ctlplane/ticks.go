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
