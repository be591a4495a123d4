// Package tcpserve accepts the agents' TCP connections for the control-plane services:
// a bound on open connections (more are closed at once and counted), one handler per
// connection, and every connection closed and waited for at shutdown.
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
	// MaxConns bounds the open connections; one accepted beyond it is closed at once.
	MaxConns int
	// Handle serves one connection until it ends, and must close it. Close closes
	// every open connection, which must make Handle return.
	Handle func(nc net.Conn)
	// Logger receives accept errors.
	Logger *slog.Logger

	open     atomic.Int64
	accepted atomic.Uint64
	refused  atomic.Uint64

	mu     sync.Mutex // guards conns and closed
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup // Handle calls
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
		if s.open.Load() >= int64(s.MaxConns) {
			s.refused.Add(1)
			nc.Close()
			continue
		}
		s.start(nc)
	}
}

// start runs Handle for nc, or closes nc when the server is closed.
func (s *Server) start(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if s.conns == nil {
		s.conns = make(map[net.Conn]struct{})
	}
	s.conns[nc] = struct{}{}
	s.open.Add(1)
	s.accepted.Add(1)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		s.Handle(nc)
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		s.open.Add(-1)
	}()
}

// Close closes every open connection, refuses new ones and waits until every Handle
// has returned.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for nc := range conns {
		nc.Close()
	}
	s.wg.Wait()
}

// Open, Accepted and Refused are the connections open now, accepted since start and
// closed at once because MaxConns were open.
func (s *Server) Open() int64 { return s.open.Load() }

// Accepted returns the connections accepted since start.
func (s *Server) Accepted() uint64 { return s.accepted.Load() }

// Refused returns the connections closed at once because MaxConns were open.
func (s *Server) Refused() uint64 { return s.refused.Load() }

// Conns returns the connections open now, for tests and benchmarks that write to them
// as the service would.
func (s *Server) Conns() []net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]net.Conn, 0, len(s.conns))
	for nc := range s.conns {
		out = append(out, nc)
	}
	return out
}
