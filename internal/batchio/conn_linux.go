package batchio

import (
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// connSys drives recvmmsg and sendmmsg through the socket's RawConn. The callbacks are
// method values created once in init: a closure made per call would allocate, so the
// callbacks take their arguments from, and leave their results in, the fields below.
type connSys struct {
	rc       syscall.RawConn
	recvFn   func(fd uintptr) bool
	queuedFn func(fd uintptr) bool // recvQueued, for ReadQueued
	sendFn   func(fd uintptr) bool

	// Owned by the ReadBatch in progress.
	rHdrs  []unix.Mmsghdr
	rN     int
	rErrno syscall.Errno

	// Owned by the WriteBatch in progress.
	wHdrs  []unix.Mmsghdr
	wOff   int // first header not yet sent nor skipped
	wSent  int
	wErrno syscall.Errno // first errno met
}

func (s *connSys) init(c *Conn) error {
	rc, err := c.uc.SyscallConn()
	if err != nil {
		return err
	}
	s.rc = rc
	s.recvFn = s.recv
	s.queuedFn = s.recvQueued
	s.sendFn = s.send
	return nil
}

// recv is the RawConn.Read callback: one non-blocking recvmmsg. It returns false on
// EAGAIN so that the netpoller parks the goroutine until the socket is readable. The
// call cannot block, so it is made as a raw system call, without the scheduler's
// bookkeeping around it: that saved about a tenth of lars-loadgen's CPU per request.
func (s *connSys) recv(fd uintptr) bool {
	for {
		r, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd,
			uintptr(unsafe.Pointer(unsafe.SliceData(s.rHdrs))), uintptr(len(s.rHdrs)),
			unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			s.rN = int(r)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		s.rErrno = e
		return true
	}
}

// recvQueued is recv for ReadQueued: an empty socket ends the read with no datagram
// instead of parking. MSG_DONTWAIT makes it so on a blocking socket too.
func (s *connSys) recvQueued(fd uintptr) bool {
	s.recv(fd)
	return true
}

// send is the RawConn.Write callback: sendmmsg until every header is sent or skipped.
// A header the kernel rejects is skipped after recording the first errno. It returns
// false on EAGAIN so that the netpoller parks the goroutine until the socket is
// writable; the next call resumes at wOff. Like recv, it makes raw system calls: a
// non-blocking sendmmsg returns as soon as the kernel has taken the datagrams.
func (s *connSys) send(fd uintptr) bool {
	for s.wOff < len(s.wHdrs) {
		rest := s.wHdrs[s.wOff:]
		r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd,
			uintptr(unsafe.Pointer(unsafe.SliceData(rest))), uintptr(len(rest)),
			unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			s.wOff += int(r)
			s.wSent += int(r)
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			if s.wErrno == 0 {
				s.wErrno = e
			}
			s.wOff++
		}
	}
	return true
}

func (c *Conn) readBatch(b *Batch) (int, error) { return c.readWith(b, c.sys.recvFn) }

func (c *Conn) readQueued(b *Batch) (int, error) { return c.readWith(b, c.sys.queuedFn) }

// readWith fills b with one recvmmsg made by the RawConn.Read callback fn.
func (c *Conn) readWith(b *Batch, fn func(fd uintptr) bool) (int, error) {
	n := len(b.Msgs)
	b.prepareRead(n)
	s := &c.sys
	s.rHdrs, s.rN, s.rErrno = b.sys.hdrs[:n], 0, 0
	err := s.rc.Read(fn)
	s.rHdrs = nil
	if c.blocking != nil && c.blocking.closed() {
		return 0, c.closedError("read")
	}
	if err != nil {
		return 0, err
	}
	if s.rErrno != 0 {
		return 0, c.syscallError("read", "recvmmsg", s.rErrno)
	}
	b.finishRead(s.rN)
	return s.rN, nil
}

func (c *Conn) writeBatch(b *Batch, n int) (int, error) {
	if n == 0 {
		return 0, nil
	}
	b.prepareWrite(n, c.connected)
	s := &c.sys
	s.wHdrs, s.wOff, s.wSent, s.wErrno = b.sys.hdrs[:n], 0, 0, 0
	err := s.rc.Write(s.sendFn)
	s.wHdrs = nil
	b.finishWrite(n)
	if c.blocking != nil && c.blocking.closed() {
		return s.wSent, c.closedError("write")
	}
	if err == nil && s.wErrno != 0 {
		err = c.syscallError("write", "sendmmsg", s.wErrno)
	}
	return s.wSent, err
}

// remoteAddr returns the connected peer, or nil.
func (c *Conn) remoteAddr() net.Addr {
	if c.uc == nil {
		return nil
	}
	return c.uc.RemoteAddr()
}

// syscallError wraps an errno from a batched system call like the net package does.
func (c *Conn) syscallError(op, call string, errno syscall.Errno) error {
	return &net.OpError{
		Op:     op,
		Net:    "udp",
		Source: c.laddr,
		Addr:   c.remoteAddr(),
		Err:    os.NewSyscallError(call, errno),
	}
}
