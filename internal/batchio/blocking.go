package batchio

import (
	"net"
	"time"
)

// blockingWake is the receive timeout of a blocking socket: a ReadBatch blocked in the
// kernel wakes this often to see whether Close was called, should the shutdown with
// which Close wakes it not reach it. It bounds how long Close can leave a reader behind.
const blockingWake = 200 * time.Millisecond

// closedError is what ReadBatch and WriteBatch of a closed blocking Conn return.
func (c *Conn) closedError(op string) error {
	return &net.OpError{Op: op, Net: "udp", Source: c.laddr, Err: net.ErrClosed}
}
