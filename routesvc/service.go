package routesvc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/larsgo/lars/internal/backoff"
	"github.com/larsgo/lars/internal/peerstats"
	"github.com/larsgo/lars/internal/tcpserve"
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

	server tcpserve.Server
	// peers counts connections and pulls per verified identity (mutual TLS only).
	peers *peerstats.Set
	// helloReply is the HelloReply frame, encoded once: every Hello is answered with it.
	helloReply []byte
	// leases takes registrations (nil: the store keeps no leases).
	leases *leaseManager
}

// New returns a service for cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("routesvc: Config.Store is nil")
	}
	if cfg.Policy != nil && (cfg.TLS == nil || !cfg.TLS.Mutual()) {
		return nil, errors.New("routesvc: a Config.Policy names verified identities: it needs mutual TLS (a TLS server with a CA)")
	}
	cfg = cfg.withDefaults()
	s := &Service{
		cfg:   cfg,
		table: newTable(cfg),
		ready: make(chan struct{}),
		set:   metrics.NewSet(),
	}
	s.sync.svc = s
	if st, ok := cfg.Store.(LeaseStore); ok {
		s.leases = newLeaseManager(s, st)
	}
	s.helloReply = encodeHelloReply(s.cfg.IdleTimeout, s.leases != nil)
	s.server = tcpserve.Server{MaxConns: s.cfg.MaxConns, IdleTimeout: max(s.cfg.IdleTimeout, 0),
		Handle: s.serve, Logger: s.cfg.Logger}
	s.stats.fullLoadSeconds = s.set.NewHistogram(`lars_dns_load_seconds{kind="full"}`)
	s.stats.changeLoadSeconds = s.set.NewHistogram(`lars_dns_load_seconds{kind="changes"}`)
	s.stats.fanoutSeconds = s.set.NewHistogram("lars_dns_push_fanout_seconds")
	s.table.fanout = func(d time.Duration, _ int) { s.stats.fanoutSeconds.Update(d.Seconds()) }
	if cfg.TLS != nil && cfg.TLS.Mutual() {
		s.peers = peerstats.New(0)
	}
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
	s.sync.openSignal(ctx)
	defer s.sync.closeSignal()
	b := backoff.New(s.sync.pollEvery, max(s.cfg.MaxBackoff, s.sync.pollEvery), backoff.EqualJitter, nil)
	if err := s.sync.firstLoad(ctx, b); err != nil {
		return nil // ctx ended before the first load
	}
	st := s.Stats()
	s.cfg.Logger.Info("routes loaded", "keys", st.Keys, "hosts", st.Routes, "version", st.Version,
		"change_signal", s.sync.signal != nil, "watch", s.cfg.Watch.String(), "poll", s.sync.pollEvery.String())
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", s.cfg.Listen, err)
	}
	s.addr = ln.Addr()
	if s.cfg.TLS != nil {
		ln = s.cfg.TLS.Listener(ln)
	}
	if m := s.leases; m != nil && m.enabled() {
		m.ensure(ctx) // the lease table, before the first registration can come
	}
	close(s.ready)
	s.cfg.Logger.Info("serving", "addr", s.addr.String(), "tls", tcpserve.TLSMode(s.cfg.TLS))

	var bg sync.WaitGroup
	bg.Add(2)
	go func() { defer bg.Done(); s.sync.run(ctx, b) }()
	go func() { defer bg.Done(); s.server.Serve(ln) }()
	if m := s.leases; m != nil && m.enabled() {
		if !m.manual {
			bg.Go(func() { m.loop(ctx) })
		}
		for range s.cfg.LeaseWorkers {
			bg.Go(func() { m.work(ctx) })
		}
	}
	<-ctx.Done()
	ln.Close()
	s.server.Close()
	bg.Wait()
	return nil
}

// serve serves one agent's connection until it ends: its writer goroutine, its reader
// here, then its subscriptions dropped.
func (s *Service) serve(nc net.Conn) {
	a := s.admit(nc)
	if !a.OK {
		nc.Close()
		return
	}
	c := newConn(s, nc)
	c.grant, c.peer = a.Grant, s.peers.Connected(a.Peer.String())
	c.owner, c.regGrant = s.leaseOwner(a, nc)
	defer c.peer.Disconnected()
	var writer sync.WaitGroup
	writer.Go(c.writeLoop)
	if err := c.readLoop(); errors.Is(err, errBadFrame) {
		s.stats.badFrames.Add(1)
	}
	c.close()
	s.table.unsubscribeAll(c)
	if s.leases != nil {
		s.leases.connClosed(c)
	}
	writer.Wait()
}

// Stats returns the service's figures.
func (s *Service) Stats() Stats {
	st := Stats{
		Connections:             s.server.Open(),
		Accepted:                s.server.Accepted(),
		Refused:                 s.server.Refused(),
		IdleClosed:              s.server.IdleClosed(),
		Evicted:                 s.server.Evicted(),
		Subscriptions:           s.table.subscriptions.Load(),
		UnknownKeySubscriptions: s.table.unknownSubs.Load(),
		Keys:                    s.table.keys.Load(),
		Routes:                  s.table.hosts.Load(),
		Pulls:                   s.stats.pulls.Load(),
		SignalReads:             s.stats.signalReads.Load(),
		SignalFired:             s.stats.signalFired.Load(),
		Gaps:                    s.stats.gaps.Load(),
		PullsDenied:             s.stats.pullsDenied.Load(),
		NotAllowed:              s.stats.notAllowed.Load(),
		Pushes:                  s.table.pushes.Load(),
		BadFrames:               s.stats.badFrames.Load(),
		Hellos:                  s.stats.hellos.Load(),
		UnsubscribeFrames:       s.stats.unsubscribeFrames.Load(),
		Unsubscribed:            s.stats.unsubscribed.Load(),
		UnsubscribeMisses:       s.stats.unsubscribeMisses.Load(),
		SlowClosed:              s.stats.slowClosed.Load(),
		Polls:                   s.stats.polls.Load(),
		PollErrors:              s.stats.pollErrors.Load(),
		FullLoads:               s.stats.fullLoads.Load(),
		ChangeRows:              s.stats.changeRows.Load(),
		KeysChanged:             s.stats.keysChanged.Load(),
		ChangeRowsDeleted:       s.stats.changeRowsDeleted.Load(),
		TooLarge:                s.table.tooLarge.Load(),
		Version:                 s.sync.version.Load(),
		LastChange:              s.sync.lastChange.Load(),
	}
	for i := range st.SubscriptionsRefused {
		st.SubscriptionsRefused[i] = s.table.refused[i].Load()
	}
	for i := range st.DroppedFrames {
		st.DroppedFrames[i] = s.stats.droppedFrames[i].Load()
	}
	return st
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
