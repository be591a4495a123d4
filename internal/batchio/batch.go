// Package batchio sends and receives UDP datagrams in batches (recvmmsg/sendmmsg on
// Linux) without allocating per call.
package batchio

import (
	"net/netip"
)

// Defaults used by NewBatch for sizes that are zero or negative.
const (
	// DefaultBatchSize is the number of messages in a batch: enough to amortise a
	// system call over many datagrams without making one batch's latency noticeable.
	DefaultBatchSize = 64
	// DefaultSlotSize is the size of a message's data slot; agent requests are far
	// smaller, and larger answers are sent from caller buffers through Payload.
	DefaultSlotSize = 2048
)

// Message is one datagram of a Batch.
type Message struct {
	// Buf is the message's data slot, allocated by NewBatch with len == cap == slot
	// size. ReadBatch receives into Buf[:cap(Buf)]. The caller may replace Buf with
	// another buffer it owns or swap Messages within a batch; the batch keeps no other
	// reference to the slot.
	Buf []byte
	// N is the datagram's length: set by ReadBatch to the bytes received (at most
	// cap(Buf)), and read by WriteBatch, which sends Buf[:N] unless Payload is set.
	N int
	// Payload, when non-nil, is sent by WriteBatch instead of Buf[:N]: a caller-owned
	// buffer of any size up to the UDP limit (for example a pooled buffer holding a
	// large answer). WriteBatch resets it to nil before returning, so the buffer may
	// be reused or returned to its pool once WriteBatch returns.
	Payload []byte
	// Peer is the datagram's source after ReadBatch and its destination for
	// WriteBatch on an unconnected socket (connected sockets ignore it). Copy it from a
	// received message to reply to that message's sender.
	Peer SockAddr
	// Truncated is set by ReadBatch when the datagram was larger than the slot and was
	// cut to cap(Buf) bytes; the caller should drop and count it. Only Linux and other
	// Unix systems report truncation.
	Truncated bool
}

// Batch is a fixed set of messages with everything a batched system call needs,
// allocated once by NewBatch and reused for every call. A Batch must not be used by
// two calls at the same time; a server usually owns one batch to receive into and
// one to reply from.
type Batch struct {
	// Msgs holds the messages; its length is the batch size. Do not resize it.
	Msgs []Message
	sys  batchSys // per-OS system call headers, rebuilt from Msgs on every call
}

// NewBatch returns a batch of size messages, each with a data slot of slotSize bytes;
// sizes of zero or less select DefaultBatchSize and DefaultSlotSize. All slots share
// one allocation.
func NewBatch(size, slotSize int) *Batch {
	if size <= 0 {
		size = DefaultBatchSize
	}
	if slotSize <= 0 {
		slotSize = DefaultSlotSize
	}
	b := &Batch{Msgs: make([]Message, size)}
	mem := make([]byte, size*slotSize)
	for i := range b.Msgs {
		b.Msgs[i].Buf = mem[i*slotSize : (i+1)*slotSize : (i+1)*slotSize]
	}
	b.sys.init(size)
	return b
}

// Len returns the number of messages in the batch.
func (b *Batch) Len() int { return len(b.Msgs) }

// Data returns message i's received bytes, Buf[:N]. The slice aliases the slot and is
// valid until the slot is next received into.
func (b *Batch) Data(i int) []byte {
	m := &b.Msgs[i]
	return m.Buf[:m.N]
}

// Addr returns message i's peer address without allocating.
func (b *Batch) Addr(i int) netip.AddrPort { return b.Msgs[i].Peer.AddrPort() }

// SetAddr sets message i's destination without allocating (see SockAddr.SetAddrPort).
func (b *Batch) SetAddr(i int, ap netip.AddrPort) { b.Msgs[i].Peer.SetAddrPort(ap) }

// SetPayload makes WriteBatch send p, owned by the caller, as message i instead of the
// message's slot; N is set to len(p). p must not be modified until WriteBatch returns.
func (b *Batch) SetPayload(i int, p []byte) {
	m := &b.Msgs[i]
	m.Payload = p
	m.N = len(p)
}

// payload returns the bytes WriteBatch sends for m.
func (m *Message) payload() []byte {
	if m.Payload != nil {
		return m.Payload
	}
	return m.Buf[:m.N]
}
