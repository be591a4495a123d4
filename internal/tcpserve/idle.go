package tcpserve

import "time"

// quartersIdle is how many sweep ticks (quarters of IdleTimeout) a connection must
// stay untouched to be closed for silence.
const quartersIdle = 4

// startSweeper starts the goroutine that closes silent connections, once, when
// IdleTimeout is set. The caller holds s.mu.
func (s *Server) startSweeper() {
	if s.IdleTimeout <= 0 || s.sweeper != nil {
		return
	}
	s.noneSilentAt.Store(-1)
	s.sweeper = make(chan struct{})
	stop := s.sweeper
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.IdleTimeout / quartersIdle)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				s.sweep()
			case <-stop:
				return
			}
		}
	}()
}

// sweep advances the tick by one quarter of IdleTimeout and closes every connection
// untouched for quartersIdle ticks that its handler does not keep.
func (s *Server) sweep() {
	now := s.tick.Add(1)
	var silent []*conn
	s.mu.Lock()
	for c := range s.conns {
		if now-c.touched.Load() >= quartersIdle && !s.keep(c) {
			silent = append(silent, c)
		}
	}
	s.mu.Unlock()
	for _, c := range silent {
		s.idleClosed.Add(1)
		c.Close()
	}
}

// keep reports whether c's handler keeps it when silent.
func (s *Server) keep(c *conn) bool { return c.kept.Load() }

// evictSilent closes the connection silent longest, of those untouched for at least
// one tick, preferring one its handler does not keep, and reports whether it closed one.
// Its handler then ends and frees its place; the new connection is accepted at once,
// so open connections may exceed MaxConns by the ones evicted and not yet ended.
func (s *Server) evictSilent() bool {
	if s.IdleTimeout <= 0 {
		return false
	}
	now := s.tick.Load()
	if s.noneSilentAt.Load() == now {
		return false
	}
	var victim, kept *conn
	s.mu.Lock()
	for c := range s.conns {
		t := c.touched.Load()
		if now-t < 1 {
			continue
		}
		if s.keep(c) {
			if kept == nil || t < kept.touched.Load() {
				kept = c
			}
		} else if victim == nil || t < victim.touched.Load() {
			victim = c
		}
	}
	if victim == nil {
		victim = kept
	}
	if victim != nil {
		delete(s.conns, victim) // not chosen again; its handler's delete is then a no-op
	}
	s.mu.Unlock()
	if victim == nil {
		s.noneSilentAt.Store(now)
		return false
	}
	s.evicted.Add(1)
	victim.Close()
	return true
}
