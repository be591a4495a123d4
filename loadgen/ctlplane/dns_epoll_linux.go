//go:build linux

package ctlplane

import (
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// epollWaitMs bounds each wait, so that the readers see a stop within it.
const epollWaitMs = 50

// errWouldBlock is what an agent's socket reader returns when nothing is left to read.
var errWouldBlock = errors.New("would block")

// pushReaders read every agent's connection with one goroutine per core, each
// waiting on an epoll set of many sockets, instead of one goroutine per connection:
// a push then costs a read system call and its decoding, with no goroutine to wake
// and schedule. That keeps the load generator cheaper per push than the route service
// it measures. A connection without a socket (a test's pipe) gets a goroutine of its
// own.
type pushReaders struct {
	run     *dnsRun
	start   sync.Once // the groups start at the first socket (a test's pipes need none)
	started bool
	groups  []*epollGroup
	byID    []atomic.Pointer[dnsAgent] // the agents the groups read, by id
	next    atomic.Uint32
	stop    atomic.Bool
	wg      sync.WaitGroup
}

// epollGroup is one reading goroutine's epoll set.
type epollGroup struct {
	epfd int
}

// newPushReaders returns the readers of the run's sockets; their goroutines start with
// the first socket added.
func newPushReaders(r *dnsRun) *pushReaders {
	return &pushReaders{run: r, byID: make([]atomic.Pointer[dnsAgent], r.cfg.Agents)}
}

// startGroups starts one reading goroutine per core; false if epoll cannot be had
// (each connection then gets a goroutine).
func (rs *pushReaders) startGroups() bool {
	rs.start.Do(func() {
		for range max(runtime.GOMAXPROCS(0), 1) {
			epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
			if err != nil {
				break
			}
			g := &epollGroup{epfd: epfd}
			rs.groups = append(rs.groups, g)
			rs.wg.Go(func() { rs.loop(g) })
		}
		rs.started = len(rs.groups) > 0
	})
	return rs.started
}

// add has agent id read by a group and reports whether it took it (its connection
// has a socket).
func (rs *pushReaders) add(id int, a *dnsAgent) bool {
	if rs == nil {
		return false
	}
	sc, ok := a.nc.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	fd := -1
	if raw.Control(func(f uintptr) { fd = int(f) }) != nil || fd < 0 || !rs.startGroups() {
		return false
	}
	a.fd = fd
	a.sr.Reset(fdReader(fd))
	rs.byID[id].Store(a)
	g := rs.groups[int(rs.next.Add(1))%len(rs.groups)]
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(id)}
	if unix.EpollCtl(g.epfd, unix.EPOLL_CTL_ADD, fd, &ev) != nil {
		rs.byID[id].Store(nil)
		a.sr.Reset(a.nc)
		return false
	}
	return true
}

// loop reads the sockets of g as they become readable until the readers stop.
func (rs *pushReaders) loop(g *epollGroup) {
	events := make([]unix.EpollEvent, 256)
	for !rs.stop.Load() {
		n, err := unix.EpollWait(g.epfd, events, epollWaitMs)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		for _, ev := range events[:n] {
			a := rs.byID[ev.Fd].Load()
			if a == nil || a.read() {
				continue
			}
			// The connection ended: out of the set, counted, its reader done.
			unix.EpollCtl(g.epfd, unix.EPOLL_CTL_DEL, a.fd, nil)
			rs.byID[ev.Fd].Store(nil)
			a.ended()
			rs.run.readers.Done()
		}
	}
}

// close stops the reading goroutines and marks every agent they still read done (its
// connection is closed by the run's stop afterwards).
func (rs *pushReaders) close() {
	if rs == nil {
		return
	}
	rs.stop.Store(true)
	rs.wg.Wait()
	for _, g := range rs.groups {
		unix.Close(g.epfd)
	}
	for i := range rs.byID {
		if rs.byID[i].Swap(nil) != nil {
			rs.run.readers.Done()
		}
	}
}

// read takes every frame the agent's socket holds and reports whether the connection
// is still up.
func (a *dnsAgent) read() bool {
	for {
		id, body, err := a.sr.Next()
		if err != nil {
			return errors.Is(err, errWouldBlock)
		}
		a.handle(id, body, a.run.now())
	}
}

// fdReader reads a non-blocking socket: errWouldBlock when it holds nothing, io.EOF
// at its end.
type fdReader int

func (f fdReader) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(int(f), p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, errWouldBlock
		case err != nil:
			return 0, &net.OpError{Op: "read", Net: "tcp", Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}
