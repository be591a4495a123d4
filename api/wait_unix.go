//go:build unix

package api

import (
	"fmt"
	"syscall"
)

// socketReader reads a lane's socket through its raw connection. A leader can send its
// request from inside the read, after the runtime has reset the socket's readiness and
// before it parks: when that request is the only one waiting on the port, nothing
// anyone waits for can be in the socket yet, so it parks at once instead of first
// trying a read that can only fail. That saves one system call per uncontended round
// trip, the one a plain write then net.UDPConn.Read spends to learn that the socket is
// still empty. (Sending first and parking without trying would lose an answer that
// came before the read began: the runtime forgets readiness when a read starts.)
type socketReader struct {
	raw     syscall.RawConn
	read    func(fd uintptr) bool // allocated once: passed to raw.Read on every call
	buf     []byte
	send    []byte // a request to write before the first attempt, then nil
	park    bool   // after writing send, wait for readiness before reading
	n       int
	errno   syscall.Errno
	sendErr error // why send was not written; syscall.EAGAIN: write it the waiting way
}

func (sr *socketReader) init(rc syscall.Conn, buf []byte) error {
	raw, err := rc.SyscallConn()
	if err != nil {
		return fmt.Errorf("lars api: cannot reach the socket: %w", err)
	}
	sr.raw, sr.buf = raw, buf
	sr.read = func(fd uintptr) bool {
		if sr.send != nil {
			req := sr.send
			sr.send = nil
			if sr.sendErr = write(fd, req); sr.sendErr != nil {
				return true
			}
			if sr.park {
				return false
			}
		}
		for {
			n, err := syscall.Read(int(fd), sr.buf)
			switch err {
			case nil:
				sr.n = n
				return true
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false
			}
			sr.errno, _ = err.(syscall.Errno)
			if sr.errno == 0 {
				sr.errno = syscall.EIO
			}
			return true
		}
	}
	return nil
}

// write sends one datagram on the connected socket fd.
func write(fd uintptr, b []byte) error {
	for {
		_, err := syscall.Write(int(fd), b)
		if err != syscall.EINTR {
			return err
		}
	}
}

// readNext reads one datagram into the buffer and returns its length. A non-nil send
// is written first, inside the read; when that fails, readNext returns at once with
// sendErr set and no datagram. With park, it waits for the socket to become readable
// after writing send instead of trying a read first. Errors are those of
// net.UDPConn.Read: deadline, closed socket, or the socket's pending error (an ICMP
// refusal) as an errno.
func (sr *socketReader) readNext(send []byte, park bool) (int, error) {
	sr.send, sr.park, sr.n, sr.errno, sr.sendErr = send, park && send != nil, 0, 0, nil
	err := sr.raw.Read(sr.read)
	if sr.send != nil { // never called: the socket is closed or its deadline passed
		sr.send = nil
		sr.sendErr = err
		return 0, nil
	}
	if sr.sendErr != nil {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if sr.errno != 0 {
		return 0, sr.errno
	}
	return sr.n, nil
}
