package upstream

import (
	"errors"
	"net"
	"time"

	"github.com/valyala/bytebufferpool"
)

// bufPool holds the buffers frames are encoded into before a write.
var bufPool bytebufferpool.Pool

// errClosedByPeer is why a connection ended when the service closed it.
var errClosedByPeer = errors.New("connection closed by peer")

// writeAll writes b to conn within timeout (none if timeout is 0 or less).
func writeAll(conn net.Conn, b []byte, timeout time.Duration) error {
	if timeout > 0 {
		if err := conn.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			return err
		}
	}
	_, err := conn.Write(b)
	return err
}
