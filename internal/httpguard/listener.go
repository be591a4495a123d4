package httpguard

import (
	"net"
	"sync"
	"sync/atomic"
)

// Listener returns ln with the guard's cap on open connections: a connection accepted
// while MaxConns are open is closed at once and counted (cause "conns"), so that a
// client holding many connections cannot take the server's file descriptors.
func (g *Guard) Listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, g: g, max: int64(g.limits.MaxConns)}
}

// limitListener is a net.Listener that keeps at most max connections open.
type limitListener struct {
	net.Listener
	g    *Guard
	max  int64
	open atomic.Int64
}

// Accept returns the next connection under the cap, closing those over it.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			l.g.refused[CauseConns].Inc()
			c.Close()
			continue
		}
		l.g.connsOpen.Inc()
		return &limitConn{Conn: c, l: l}, nil
	}
}

// limitConn is a connection under the cap: closing it frees its place.
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

// Close closes the connection and frees its place once.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.open.Add(-1)
		c.l.g.connsOpen.Dec()
	})
	return err
}
