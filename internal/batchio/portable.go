package batchio

import (
	"errors"
	"net"
	"os"
)

// readPortable receives one datagram into message 0 with the net package's own read,
// the fallback on systems without recvmmsg and the baseline the batched path is
// measured against.
func (c *Conn) readPortable(b *Batch) (int, error) {
	m := &b.Msgs[0]
	n, _, flags, ap, err := c.uc.ReadMsgUDPAddrPort(m.Buf[:cap(m.Buf)], nil)
	if err != nil {
		return 0, err
	}
	m.N = n
	m.Truncated = flags&msgTrunc != 0
	m.Peer.SetAddrPort(ap)
	return 1, nil
}

// writePortable sends messages 0..n-1 one system call each, with the same skipping
// and result rules as WriteBatch.
func (c *Conn) writePortable(b *Batch, n int) (sent int, err error) {
	for i := range n {
		m := &b.Msgs[i]
		var werr error
		if c.connected {
			_, werr = c.uc.Write(m.payload())
		} else {
			_, werr = c.uc.WriteToUDPAddrPort(m.payload(), m.Peer.AddrPort())
		}
		m.Payload = nil
		if werr == nil {
			sent++
			continue
		}
		if err == nil {
			err = werr
		}
		if isFatal(werr) {
			for j := i + 1; j < n; j++ {
				b.Msgs[j].Payload = nil
			}
			break
		}
	}
	return sent, err
}

// isFatal reports whether a write error concerns the socket rather than one message.
func isFatal(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded)
}
