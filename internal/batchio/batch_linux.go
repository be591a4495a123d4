package batchio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchSys holds the recvmmsg/sendmmsg headers, one message header and one iovec per
// message, allocated with the batch. Every call rebuilds them from Msgs, so Go
// pointers in them always refer to the current slots, payloads and addresses.
type batchSys struct {
	hdrs []unix.Mmsghdr
	iovs []unix.Iovec
}

func (s *batchSys) init(size int) {
	s.hdrs = make([]unix.Mmsghdr, size)
	s.iovs = make([]unix.Iovec, size)
	for i := range s.hdrs {
		s.hdrs[i].Hdr.Iov = &s.iovs[i]
		s.hdrs[i].Hdr.SetIovlen(1)
	}
}

// prepareRead points headers 0..n-1 at the full slots and address buffers.
func (b *Batch) prepareRead(n int) {
	for i := range n {
		m := &b.Msgs[i]
		iov := &b.sys.iovs[i]
		iov.Base = unsafe.SliceData(m.Buf)
		iov.SetLen(cap(m.Buf))
		h := &b.sys.hdrs[i]
		h.Hdr.Name = &m.Peer.raw[0]
		h.Hdr.Namelen = sockaddrSize
		h.Hdr.Flags = 0
		h.Len = 0
	}
}

// finishRead copies the results of headers 0..n-1 into the messages.
func (b *Batch) finishRead(n int) {
	for i := range n {
		m := &b.Msgs[i]
		h := &b.sys.hdrs[i]
		m.N = int(h.Len)
		m.Peer.len = h.Hdr.Namelen
		m.Truncated = h.Hdr.Flags&unix.MSG_TRUNC != 0
	}
}

// prepareWrite points headers 0..n-1 at the messages' payloads and, unless the socket
// is connected, at their peers.
func (b *Batch) prepareWrite(n int, connected bool) {
	for i := range n {
		m := &b.Msgs[i]
		p := m.payload()
		iov := &b.sys.iovs[i]
		iov.Base = unsafe.SliceData(p)
		iov.SetLen(len(p))
		h := &b.sys.hdrs[i]
		if connected || m.Peer.len == 0 {
			h.Hdr.Name = nil
			h.Hdr.Namelen = 0
		} else {
			h.Hdr.Name = &m.Peer.raw[0]
			h.Hdr.Namelen = m.Peer.len
		}
		h.Hdr.Flags = 0
		h.Len = 0
	}
}

// finishWrite drops the references to caller payloads taken by prepareWrite.
func (b *Batch) finishWrite(n int) {
	for i := range n {
		if b.Msgs[i].Payload != nil {
			b.Msgs[i].Payload = nil
			b.sys.iovs[i].Base = nil
		}
	}
}
