package batchio

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ListenBlocking opens a UDP socket like ListenUDP, but outside Go's netpoller: its
// ReadBatch blocks the calling goroutine's thread in recvmmsg until a datagram arrives,
// and the kernel wakes that thread directly, as it would a C server's. There is no
// EAGAIN, no parking and no netpoller wake-up between the datagram and the serving
// goroutine, which is what a server under a latency objective pays for at moderate
// load, where batches are small. Each blocked ReadBatch holds an OS thread; see
// ReserveProcs for the Ps.
//
// Read and write deadlines are not supported (there is no net.UDPConn: UDPConn returns
// nil). Close wakes a blocked ReadBatch, which then returns an error matching
// net.ErrClosed, at the latest after blockingWake. On systems other than Linux,
// ListenBlocking returns an ordinary Conn on a ListenUDP socket.
func ListenBlocking(network, addr string, opts ListenOptions) (*Conn, error) {
	uc, err := ListenUDP(network, addr, opts)
	if err != nil {
		return nil, err
	}
	laddr := uc.LocalAddr()
	rc, err := uc.SyscallConn()
	if err != nil {
		uc.Close()
		return nil, err
	}
	// A duplicate descriptor keeps the socket (with its options and its place in an
	// SO_REUSEPORT group) once the net.UDPConn, and with it the netpoller's
	// registration, is gone.
	var fd int
	var dupErr error
	ctlErr := rc.Control(func(s uintptr) { fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) })
	uc.Close()
	if err := errors.Join(ctlErr, dupErr); err != nil {
		return nil, fmt.Errorf("cannot duplicate socket %s: %w", laddr, err)
	}
	if err := setBlocking(fd); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("cannot make socket %s blocking: %w", laddr, err)
	}
	// os.File keeps the descriptor open while a ReadBatch or WriteBatch is inside a
	// system call on it: Close marks it closed and the last call out closes it.
	file := os.NewFile(uintptr(fd), "udp "+laddr.String())
	frc, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, err
	}
	c := &Conn{laddr: laddr, blocking: &blockingFD{file: file, rc: frc}}
	c.blocking.sys = &c.sys
	c.sys.rc = frc
	c.sys.recvFn = c.blocking.recv
	c.sys.queuedFn = c.sys.recvQueued
	c.sys.sendFn = c.blocking.send
	return c, nil
}

// setBlocking clears O_NONBLOCK and sets the receive timeout that lets a blocked
// reader notice Close.
func setBlocking(fd int) error {
	if err := unix.SetNonblock(fd, false); err != nil {
		return err
	}
	tv := unix.NsecToTimeval(blockingWake.Nanoseconds())
	return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
}

// blockingFD is the socket of a Conn from ListenBlocking, with the RawConn callbacks
// that block in the kernel instead of returning EAGAIN to the netpoller. They share
// the Conn's connSys for their arguments and results, like its netpoller callbacks.
type blockingFD struct {
	file    *os.File
	rc      syscall.RawConn
	sys     *connSys
	closing atomic.Bool
}

// recv blocks in recvmmsg until at least one datagram is there (MSG_WAITFORONE: then
// takes what else is already queued). The receive timeout (EAGAIN) and signals (EINTR)
// only make it check for Close and block again.
func (b *blockingFD) recv(fd uintptr) bool {
	s := b.sys
	for !b.closing.Load() {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd,
			uintptr(unsafe.Pointer(unsafe.SliceData(s.rHdrs))), uintptr(len(s.rHdrs)),
			unix.MSG_WAITFORONE, 0, 0)
		switch e {
		case 0:
			s.rN = int(r)
			return true
		case unix.EINTR, unix.EAGAIN:
			continue
		}
		s.rErrno = e
		return true
	}
	return true
}

// send is sendmmsg on the blocking socket: it blocks while the send buffer is full. A
// message the kernel rejects is skipped after recording the first errno.
func (b *blockingFD) send(fd uintptr) bool {
	s := b.sys
	for s.wOff < len(s.wHdrs) && !b.closing.Load() {
		rest := s.wHdrs[s.wOff:]
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd,
			uintptr(unsafe.Pointer(unsafe.SliceData(rest))), uintptr(len(rest)), 0, 0, 0)
		switch e {
		case 0:
			s.wOff += int(r)
			s.wSent += int(r)
		case unix.EINTR, unix.EAGAIN:
		default:
			if s.wErrno == 0 {
				s.wErrno = e
			}
			s.wOff++
		}
	}
	return true
}

// close wakes a reader blocked in recvmmsg (shutdown makes it return at once) and
// closes the descriptor once no call is inside the kernel with it any more.
func (b *blockingFD) close() error {
	if !b.closing.CompareAndSwap(false, true) {
		return b.file.Close() // reports the earlier close
	}
	// On an unconnected UDP socket shutdown fails with ENOTCONN, but it still marks
	// the socket shut and wakes its waiters.
	_ = b.rc.Control(func(fd uintptr) { _ = unix.Shutdown(int(fd), unix.SHUT_RDWR) })
	return b.file.Close()
}

// closed reports whether Close was called.
func (b *blockingFD) closed() bool { return b.closing.Load() }
