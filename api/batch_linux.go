package api

import (
	"syscall"
	"unsafe"

	"github.com/larsgo/lars/codec"
	"golang.org/x/sys/unix"
)

// maxBatch is the most datagrams one read takes when several callers wait on a port.
// Under contention a read that hands out several answers at once costs one system
// call instead of one each (64 goroutines on one client: 7% less time per call).
const maxBatch = 8

// batchRead reads several datagrams with one recvmmsg. Its buffers, each large enough
// for any frame (a GetRoute answer can fill one), are allocated the first time a port
// has more than one caller waiting: 7 x 64 KiB per agent port, and never for a client
// that is not used concurrently.
type batchRead struct {
	hdrs   []unix.Mmsghdr
	iovs   []unix.Iovec
	bufs   [][]byte
	k      int
	n      int
	errno  syscall.Errno
	nowait bool // an empty socket ends the read with 0 datagrams instead of waiting
	fn     func(fd uintptr) bool
}

func (b *batchRead) init(first []byte) {
	b.hdrs = make([]unix.Mmsghdr, maxBatch)
	b.iovs = make([]unix.Iovec, maxBatch)
	b.bufs = make([][]byte, maxBatch)
	b.bufs[0] = first
	for i := 1; i < maxBatch; i++ {
		b.bufs[i] = make([]byte, codec.MaxFrameSize+1)
	}
	for i := range b.hdrs {
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(len(b.bufs[i]))
		b.hdrs[i].Hdr.Iov = &b.iovs[i]
		b.hdrs[i].Hdr.SetIovlen(1)
	}
	b.fn = func(fd uintptr) bool {
		for {
			r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(b.k),
				unix.MSG_DONTWAIT, 0, 0)
			switch e {
			case 0:
				b.n = int(r)
				return true
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return b.nowait
			}
			b.errno = e
			return true
		}
	}
}

// readBatch reads up to k datagrams (clamped to 1..maxBatch: the count of waiters it
// comes from may have changed) and returns how many; batchBuf(i) is the i-th. Errors
// are those of readNext.
func (sr *socketReader) readBatch(k int) (int, error) {
	b := &sr.batch
	if b.fn == nil {
		b.init(sr.buf)
	}
	b.k, b.n, b.errno = min(max(k, 1), maxBatch), 0, 0
	if err := sr.raw.Read(b.fn); err != nil {
		return 0, err
	}
	if b.errno != 0 {
		return 0, b.errno
	}
	return b.n, nil
}

// readQueued is readBatch without the wait: it returns 0 at once when the socket
// holds nothing.
func (sr *socketReader) readQueued(k int) (int, error) {
	sr.batch.nowait = true
	n, err := sr.readBatch(k)
	sr.batch.nowait = false
	return n, err
}

// batchBuf returns the i-th datagram of the last readBatch.
func (sr *socketReader) batchBuf(i int) []byte {
	return sr.batch.bufs[i][:sr.batch.hdrs[i].Len]
}
