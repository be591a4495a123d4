package larstest

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// writeTimeout bounds a fake's write to a client that does not read.
const writeTimeout = time.Second

// server is the TCP part both fakes share: listening, accepting, tracking and closing
// connections, restarting on the same address, and waking waiters on every change.
type server struct {
	handle func(c *serverConn) // serves one connection until it fails; set by the fake

	mu       sync.Mutex // guards everything below, and the fakes' own state
	addr     string     // the address listened on, kept for Restart
	ln       net.Listener
	conns    map[*serverConn]struct{}
	accepted int
	closed   bool
	changed  chan struct{} // closed and replaced by notify
	wg       sync.WaitGroup
}

// serverConn is one client connection of a fake. Writes happen with server.mu held,
// so frames never interleave and follow the order of the fake's state changes.
type serverConn struct {
	net.Conn
}

func (s *server) start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s.conns = make(map[*serverConn]struct{})
	s.changed = make(chan struct{})
	s.closed = true
	s.addr = addr
	if err := s.listen(); err != nil {
		return err
	}
	s.addr = s.ln.Addr().String()
	return nil
}

// listen opens the listener on s.addr and starts accepting. It retries for a while:
// right after Close, the port may still be held by connections being torn down.
func (s *server) listen() error {
	var err error
	for deadline := time.Now().Add(2 * time.Second); ; {
		var ln net.Listener
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			s.ln, s.closed = ln, false
			s.wg.Add(1)
			go s.acceptLoop(ln)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("larstest: cannot listen on %s: %w", s.addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c := &serverConn{Conn: nc}
		s.mu.Lock()
		if s.closed || s.ln != ln {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.accepted++
		s.wg.Add(1)
		s.notifyLocked()
		s.mu.Unlock()
		go s.serve(c)
	}
}

func (s *server) serve(c *serverConn) {
	defer s.wg.Done()
	s.handle(c)
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.notifyLocked()
	s.mu.Unlock()
}

// Addr returns the address the fake listens on, host:port.
func (s *server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Accepted returns how many connections the fake has accepted since it started,
// restarts included.
func (s *server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Active returns how many client connections are open now.
func (s *server) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// CloseConns closes every client connection but keeps listening: the clients see the
// service drop them and may reconnect at once.
func (s *server) CloseConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// Close stops listening, closes every client connection (the clients see the service
// go away) and returns once every goroutine of the fake has ended. The fake keeps its
// state; Restart brings it back on the same address. Closing twice is harmless.
func (s *server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		s.ln.Close()
		for c := range s.conns {
			c.Close()
		}
		s.notifyLocked()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Restart listens again on the address of a closed fake, as a restarted service.
func (s *server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		return errors.New("larstest: Restart of a running fake service")
	}
	return s.listen()
}

// SendRaw writes b as it is to every client connection (to inject bad frames) and
// returns how many it was written to.
func (s *server) SendRaw(b []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if c.write(b) == nil {
			n++
		}
	}
	return n
}

// write writes b within writeTimeout. The caller holds s.mu.
func (c *serverConn) write(b []byte) error {
	if err := c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	_, err := c.Write(b)
	return err
}

// notifyLocked wakes every waiter. The caller holds s.mu.
func (s *server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Wait polls cond, which may call the fake's methods, each time the fake's state
// changes (a connection, a request, a report...) until it holds or timeout passes.
func (s *server) Wait(timeout time.Duration, cond func() bool) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-t.C:
			return fmt.Errorf("larstest: condition not met within %v", timeout)
		}
	}
}

// WaitActive waits until exactly n client connections are open.
func (s *server) WaitActive(n int, timeout time.Duration) error {
	if err := s.Wait(timeout, func() bool { return s.Active() == n }); err != nil {
		return fmt.Errorf("%d active connections, want %d: %w", s.Active(), n, err)
	}
	return nil
}

// WaitAccepted waits until at least n connections have been accepted in all.
func (s *server) WaitAccepted(n int, timeout time.Duration) error {
	if err := s.Wait(timeout, func() bool { return s.Accepted() >= n }); err != nil {
		return fmt.Errorf("%d accepted connections, want %d: %w", s.Accepted(), n, err)
	}
	return nil
}
