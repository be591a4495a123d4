package loadgen

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// pacer sleeps with a precision of tens of microseconds. Go's timers wake up to a
// millisecond late on Linux (the netpoller waits in whole milliseconds), which an open
// loop measuring from intended send times would count as latency; a timerfd read
// through the netpoller wakes when the kernel's high-resolution timer fires, without
// spinning and without allocating.
type pacer struct {
	fd   int
	f    *os.File
	buf  [8]byte
	spec unix.ItimerSpec
}

func newPacer() (*pacer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	return &pacer{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// sleep waits for d (positive).
func (p *pacer) sleep(d time.Duration) {
	p.spec.Value = unix.NsecToTimespec(int64(max(d, time.Microsecond)))
	if err := unix.TimerfdSettime(p.fd, 0, &p.spec, nil); err != nil {
		time.Sleep(d)
		return
	}
	if _, err := p.f.Read(p.buf[:]); err != nil {
		time.Sleep(d)
	}
}

func (p *pacer) close() { p.f.Close() }
