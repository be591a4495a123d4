//go:build !unix

package api

import (
	"net"
	"syscall"
)

// socketReader reads a lane's socket with net.UDPConn.Read on systems without raw
// reads in the unix style.
type socketReader struct {
	conn    *net.UDPConn
	buf     []byte
	sendErr error // why the request given to readNext was not written
}

func (sr *socketReader) init(rc syscall.Conn, buf []byte) error {
	sr.conn, sr.buf = rc.(*net.UDPConn), buf
	return nil
}

// readNext writes send when not nil (returning at once with sendErr set when that
// fails), then reads one datagram into the buffer and returns its length.
func (sr *socketReader) readNext(send []byte, _ bool) (int, error) {
	sr.sendErr = nil
	if send != nil {
		if _, sr.sendErr = sr.conn.Write(send); sr.sendErr != nil {
			return 0, nil
		}
	}
	return sr.conn.Read(sr.buf)
}
