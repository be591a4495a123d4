// Package tcpserve accepts the agents' TCP connections for the control-plane services:
// a bound on open connections, one handler per connection, connections silent for too
// long closed, and every connection closed and waited for at shutdown.
//
// A connection is active when its handler calls Touch (after each valid frame). With an
// IdleTimeout, one not touched for that long is closed, unless its handler marked it
// kept (SetKept); at MaxConns, a new connection closes the one silent longest to make
// room (when one has been silent for a quarter of IdleTimeout), else it is closed at
// once. Every close is counted by cause.
package tcpserve

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Server runs Handle for each connection accepted by Serve. Set its fields before
// Serve; its methods are safe for concurrent use.
type Server struct {
	// MaxConns bounds the open connections. One accepted beyond it takes the place of
	// the connection silent longest, or is closed at once when none is silent enough.
	MaxConns int
	// IdleTimeout closes a connection not touched for that long (to 1.25 times that);
	// 0 never closes one for silence and evicts none.
	IdleTimeout time.Duration
	// Handle serves one connection until it ends, and must close it. Close closes
	// every open connection, which must make Handle return.
	Handle func(nc net.Conn)
	// Logger receives accept errors.
	Logger *slog.Logger

	open       atomic.Int64
	accepted   atomic.Uint64
	refused    atomic.Uint64
	idleClosed atomic.Uint64
	evicted    atomic.Uint64
	// tick counts quarters of IdleTimeout since Serve started; a connection records the
	// tick of its last Touch, so that marking it active reads no clock.
	tick atomic.Int64
	// noneSilentAt is the tick at which evictSilent last found no connection silent
	// enough: until the tick moves, a new connection at MaxConns is refused without a
	// scan, so that a flood of connections costs no scan each.
	noneSilentAt atomic.Int64

	mu      sync.Mutex // guards conns, closed and sweeper
	conns   map[*conn]struct{}
	closed  bool
	sweeper chan struct{}  // closed by Close to stop the sweep goroutine; nil until started
	wg      sync.WaitGroup // Handle calls and the sweep goroutine
}

// conn is an accepted connection with the tick of its last Touch, and whether its
// handler keeps it when silent (SetKept).
type conn struct {
	net.Conn
	touched atomic.Int64
	kept    atomic.Bool
}

// NetConn returns the connection the listener accepted, which conn wraps: a TLS
// connection's identity (tlsconf.Identity) is read through it.
func (c *conn) NetConn() net.Conn { return c.Conn }

// Touch marks nc, a connection as passed to Handle, active now. It neither allocates
// nor reads the clock; a connection that is not one of the server's is ignored.
func (s *Server) Touch(nc net.Conn) {
	if c, ok := nc.(*conn); ok {
		if t := s.tick.Load(); c.touched.Load() != t {
			c.touched.Store(t)
		}
	}
}

// SetKept marks nc, a connection as passed to Handle, as one to keep, or no longer
// keep, when it falls silent (one waiting for pushes, say, or one that proved to be a
// real client); at MaxConns a kept connection is evicted only when no other is silent
// enough. It is an atomic store: call it when the handler's reason changes.
func (s *Server) SetKept(nc net.Conn, kept bool) {
	if c, ok := nc.(*conn); ok {
		c.kept.Store(kept)
	}
}

// Serve accepts connections until ln is closed.
func (s *Server) Serve(ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.Logger.Warn("accept failed", "err", err)
			time.Sleep(10 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		if s.open.Load() >= int64(s.MaxConns) && !s.evictSilent() {
			s.refused.Add(1)
			nc.Close()
			continue
		}
		s.start(nc)
	}
}

// start runs Handle for nc, or closes nc when the server is closed.
func (s *Server) start(nc net.Conn) {
	c := &conn{Conn: nc}
	c.touched.Store(s.tick.Load())
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if s.conns == nil {
		s.conns = make(map[*conn]struct{})
	}
	s.startSweeper()
	s.conns[c] = struct{}{}
	s.open.Add(1)
	s.accepted.Add(1)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		s.Handle(c)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.open.Add(-1)
	}()
}

// Close closes every open connection, refuses new ones and waits until every Handle
// has returned.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed && s.sweeper != nil {
		close(s.sweeper)
	}
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for c := range conns {
		c.Close()
	}
	s.wg.Wait()
}

// Open, Accepted and Refused are the connections open now, accepted since start and
// closed at once because MaxConns were open.
func (s *Server) Open() int64 { return s.open.Load() }

// Accepted returns the connections accepted since start.
func (s *Server) Accepted() uint64 { return s.accepted.Load() }

// Refused returns the connections closed at once because MaxConns were open and none
// was silent enough to make room.
func (s *Server) Refused() uint64 { return s.refused.Load() }

// IdleClosed returns the connections closed because they were silent for IdleTimeout.
func (s *Server) IdleClosed() uint64 { return s.idleClosed.Load() }

// Evicted returns the connections closed, at MaxConns, to make room for a new one.
func (s *Server) Evicted() uint64 { return s.evicted.Load() }

// Conns returns the connections open now, for tests and benchmarks that write to them
// as the service would.
func (s *Server) Conns() []net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}
