package routesvc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/larsgo/lars/agent/upstream"
)

// Service is a route service. New makes one; Run serves until its context ends.
type Service struct {
	cfg   Config
	table *table
	sync  syncer
	stats counters
	set   *metrics.Set

	health health
	ready  chan struct{} // closed once Run listens
	addr   net.Addr      // set before ready is closed

	// lastWrite is when a connection's writer last finished a write, in Unix
	// nanoseconds: the end of a fan-out, for its benchmark.
	lastWrite atomic.Int64

	mu    sync.Mutex // guards conns
	conns map[*conn]struct{}
	wg    sync.WaitGroup // connection goroutines
}

// New returns a service for cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("routesvc: Config.Store is nil")
	}
	s := &Service{
		cfg:   cfg.withDefaults(),
		table: newTable(),
		ready: make(chan struct{}),
		conns: make(map[*conn]struct{}),
		set:   metrics.NewSet(),
	}
	s.sync.svc = s
	s.stats.fullLoadSeconds = s.set.NewHistogram(`lars_dns_load_seconds{kind="full"}`)
	s.stats.changeLoadSeconds = s.set.NewHistogram(`lars_dns_load_seconds{kind="changes"}`)
	s.stats.fanoutSeconds = s.set.NewHistogram("lars_dns_push_fanout_seconds")
	s.table.fanout = func(d time.Duration, _ int) { s.stats.fanoutSeconds.Update(d.Seconds()) }
	return s, nil
}

// Ready is closed once the first complete load is done and the service listens.
func (s *Service) Ready() <-chan struct{} { return s.ready }

// Addr is the address the service listens on; valid once Ready is closed.
func (s *Service) Addr() net.Addr { return s.addr }

// Run loads every route (retrying while the store is unreachable), then listens and
// serves agents until ctx ends; then it closes every connection and returns nil once
// its goroutines have ended. Nothing is accepted before the first load: an agent told
// "no hosts" would drop its routes. It returns an error only if it cannot listen.
func (s *Service) Run(ctx context.Context) error {
	b := upstream.NewBackoff(s.cfg.Poll, s.cfg.MaxBackoff, upstream.EqualJitter, nil)
	if err := s.sync.firstLoad(ctx, b); err != nil {
		return nil // ctx ended before the first load
	}
	st := s.Stats()
	s.cfg.Logger.Info("routes loaded", "keys", st.Keys, "hosts", st.Routes, "version", st.Version)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", s.cfg.Listen, err)
	}
	s.addr = ln.Addr()
	close(s.ready)
	s.cfg.Logger.Info("serving", "addr", s.addr.String())

	var bg sync.WaitGroup
	bg.Add(2)
	go func() { defer bg.Done(); s.sync.run(ctx, b) }()
	go func() { defer bg.Done(); s.accept(ln) }()
	<-ctx.Done()
	ln.Close()
	s.closeAll()
	bg.Wait()
	s.wg.Wait()
	return nil
}

// accept accepts connections until ln is closed.
func (s *Service) accept(ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.cfg.Logger.Warn("accept failed", "err", err)
			time.Sleep(10 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		if s.stats.conns.Load() >= int64(s.cfg.MaxConns) {
			s.stats.refused.Add(1)
			nc.Close()
			continue
		}
		s.serve(newConn(s, nc))
	}
}

// serve starts c's goroutines, or closes it when the service is shutting down.
func (s *Service) serve(c *conn) {
	s.mu.Lock()
	if s.conns == nil {
		s.mu.Unlock()
		c.nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.stats.conns.Add(1)
	s.stats.accepted.Add(1)
	s.wg.Add(2)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.writeLoop()
	}()
	go func() {
		defer s.wg.Done()
		err := c.readLoop()
		if errors.Is(err, errBadFrame) {
			s.stats.badFrames.Add(1)
		}
		c.close()
		s.table.unsubscribeAll(c)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.stats.conns.Add(-1)
	}()
}

// closeAll closes every connection and refuses new ones.
func (s *Service) closeAll() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for c := range conns {
		c.close()
	}
}

// Stats returns the service's figures.
func (s *Service) Stats() Stats {
	return Stats{
		Connections:       s.stats.conns.Load(),
		Accepted:          s.stats.accepted.Load(),
		Refused:           s.stats.refused.Load(),
		Subscriptions:     s.table.subscriptions.Load(),
		Keys:              s.table.keys.Load(),
		Routes:            s.table.hosts.Load(),
		Pulls:             s.stats.pulls.Load(),
		Pushes:            s.table.pushes.Load(),
		BadFrames:         s.stats.badFrames.Load(),
		SlowClosed:        s.stats.slowClosed.Load(),
		Polls:             s.stats.polls.Load(),
		PollErrors:        s.stats.pollErrors.Load(),
		FullLoads:         s.stats.fullLoads.Load(),
		ChangeRows:        s.stats.changeRows.Load(),
		KeysChanged:       s.stats.keysChanged.Load(),
		ChangeRowsDeleted: s.stats.changeRowsDeleted.Load(),
		TooLarge:          s.table.tooLarge.Load(),
		Version:           s.sync.version.Load(),
		LastChange:        s.sync.lastChange.Load(),
	}
}

// Health returns the service's state: loaded, and how fresh its routes are.
func (s *Service) Health() Health {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	h := Health{
		Loaded:    s.health.loaded,
		StoreUp:   s.health.downAt.IsZero(),
		LastSync:  s.health.lastSync,
		DownSince: s.health.downAt,
		LastError: s.health.lastErr,
	}
	if h.Loaded {
		h.SnapshotAge = time.Since(h.LastSync)
	}
	return h
}
