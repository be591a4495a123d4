package batchio

import (
	"net"
)

// Conn reads and writes batches of datagrams on a UDP socket. The calling goroutine
// parks in Go's netpoller while the socket is not ready, as with net.UDPConn; on a
// Conn from ListenBlocking it blocks its thread in the kernel instead.
//
// One ReadBatch and one WriteBatch may run at the same time (for example a reader and
// a writer goroutine), but not two ReadBatch or two WriteBatch calls.
type Conn struct {
	uc        *net.UDPConn // nil for a Conn from ListenBlocking
	laddr     net.Addr
	connected bool        // the socket has a peer: WriteBatch ignores Message.Peer
	portable  bool        // one net package call per datagram, see NewPortableConn
	blocking  *blockingFD // the socket of a Conn from ListenBlocking, else nil
	sys       connSys
}

// NewConn wraps uc, which stays owned by the caller except that Conn.Close closes it.
// Deadlines set on uc apply to ReadBatch and WriteBatch.
func NewConn(uc *net.UDPConn) (*Conn, error) {
	c := &Conn{uc: uc, laddr: uc.LocalAddr(), connected: uc.RemoteAddr() != nil}
	if err := c.sys.init(c); err != nil {
		return nil, err
	}
	return c, nil
}

// NewPortableConn wraps uc like NewConn, but its ReadBatch receives one datagram per
// call and its WriteBatch sends with one system call per datagram, through the net
// package, as Conn does on systems without recvmmsg/sendmmsg. It serves comparison
// benchmarks and tests of that fallback; it allocates nothing per call either.
func NewPortableConn(uc *net.UDPConn) *Conn {
	return &Conn{uc: uc, laddr: uc.LocalAddr(), connected: uc.RemoteAddr() != nil, portable: true}
}

// UDPConn returns the wrapped socket, for deadlines, addresses and plain I/O; nil for a
// Conn from ListenBlocking, whose socket is not a net.UDPConn.
func (c *Conn) UDPConn() *net.UDPConn { return c.uc }

// LocalAddr returns the address the socket is bound to.
func (c *Conn) LocalAddr() net.Addr { return c.laddr }

// Close closes the socket; a ReadBatch or WriteBatch parked or blocked on it returns
// an error matching net.ErrClosed.
func (c *Conn) Close() error {
	if c.blocking != nil {
		return c.blocking.close()
	}
	return c.uc.Close()
}

// ReadBatch receives up to b.Len() datagrams into b's slots. It waits until at least
// one datagram is available, then returns as many as are immediately available,
// setting N, Peer and Truncated of messages 0..n-1. It returns an error when the read
// deadline passes (matching os.ErrDeadlineExceeded) or the socket is closed (matching
// net.ErrClosed). An ICMP error on a connected socket is reported once as an error
// matching the errno, for example syscall.ECONNREFUSED; the Conn stays usable.
func (c *Conn) ReadBatch(b *Batch) (n int, err error) {
	if c.portable {
		return c.readPortable(b)
	}
	return c.readBatch(b)
}

// ReadQueued is ReadBatch without the wait: it takes the datagrams already queued, up
// to b.Len(), and returns 0 at once when there are none. A portable Conn, and any Conn
// outside Linux, cannot read without waiting, and returns 0.
func (c *Conn) ReadQueued(b *Batch) (n int, err error) {
	if c.portable {
		return 0, nil
	}
	return c.readQueued(b)
}

// WriteBatch sends messages 0..n-1 of b (n <= b.Len()), each to its Peer unless the
// socket is connected, parking while the socket buffer is full. A message the kernel
// rejects (for example with ECONNREFUSED after an ICMP error, EMSGSIZE or an
// unreachable destination) is skipped and the rest are still sent; the write deadline
// or closing the socket stops the batch. It returns the number of messages sent and
// the first error met, and resets the Payload of messages 0..n-1.
func (c *Conn) WriteBatch(b *Batch, n int) (sent int, err error) {
	if c.portable {
		return c.writePortable(b, n)
	}
	return c.writeBatch(b, n)
}
