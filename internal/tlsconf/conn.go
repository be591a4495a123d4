package tlsconf

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is a server's TLS connection. Its handshake runs on its first Read or Write
// (or Handshake), within the server's HandshakeTimeout; a failed one is counted once
// by cause.
type Conn struct {
	*tls.Conn
	server  *Server
	timeout time.Duration
	done    atomic.Bool // the handshake succeeded
	counted sync.Once
}

// Handshake runs the handshake unless it has run; see HandshakeContext.
func (c *Conn) Handshake() error { return c.HandshakeContext(context.Background()) }

// HandshakeContext runs the handshake unless it has run, within ctx and the server's
// HandshakeTimeout, and returns its error, the same each time.
func (c *Conn) HandshakeContext(ctx context.Context) error {
	if c.done.Load() {
		return nil
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	err := c.Conn.HandshakeContext(ctx)
	if err != nil {
		c.counted.Do(func() {
			if cause := classify(err); cause != CausePlaintext { // counted as it was seen
				c.server.failures[cause].Add(1)
			}
		})
		return err
	}
	if !c.done.Swap(true) {
		c.server.handshakes.Add(1)
	}
	return nil
}

// Read reads after the handshake.
func (c *Conn) Read(b []byte) (int, error) {
	if err := c.Handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

// Write writes after the handshake.
func (c *Conn) Write(b []byte) (int, error) {
	if err := c.Handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// sniffConn is an accepted connection that fails the handshake with ErrPlaintext, at
// once, when the client's first byte cannot begin a TLS record, and counts it: a
// plaintext client is refused without waiting for a whole record header. Only the
// handshake reads it before its first byte is seen.
type sniffConn struct {
	net.Conn
	plaintext *atomic.Uint64
	seen      bool
}

func (s *sniffConn) Read(b []byte) (int, error) {
	n, err := s.Conn.Read(b)
	if !s.seen && n > 0 {
		s.seen = true
		if b[0] != tlsRecordHandshake {
			s.plaintext.Add(1)
			return 0, ErrPlaintext
		}
	}
	return n, err
}

// listener accepts a Server's connections.
type listener struct {
	net.Listener
	server *Server
}

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.server.Server(c), nil
}

// httpListener accepts a Server's connections for net/http.
type httpListener struct {
	net.Listener
	server *Server
}

func (l httpListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(l.server.sniff(c), l.server.config), nil
}
