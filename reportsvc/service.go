package reportsvc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/peerstats"
	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tcpserve"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// Service is a report service. New makes one; Run serves until its context ends.
type Service struct {
	cfg    Config
	queue  *queue
	stats  counters
	set    *metrics.Set
	health health

	ready chan struct{} // closed once Run listens
	addr  net.Addr      // set before ready is closed

	// writeCtx is the context of every statement; cancelled when the flush at
	// shutdown runs out of time.
	writeCtx    context.Context
	cancelWrite context.CancelFunc
	draining    chan struct{} // closed once no reader is left: workers write what is queued, then end

	server tcpserve.Server
	known  *knownKeys    // nil: every key's rows are kept
	owners atomic.Uint32 // the last owner number given to a connection
	// peers counts connections and results per verified identity (mutual TLS only).
	peers *peerstats.Set
}

// New returns a service for cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("reportsvc: Config.Store is nil")
	}
	if cfg.Policy != nil && (cfg.TLS == nil || !cfg.TLS.Mutual()) {
		return nil, errors.New("reportsvc: a Config.Policy names verified identities: it needs mutual TLS (a TLS server with a CA)")
	}
	cfg = cfg.withDefaults()
	s := &Service{
		cfg:      cfg,
		queue:    newQueue(cfg.Workers, cfg.QueueSize),
		set:      metrics.NewSet(),
		ready:    make(chan struct{}),
		draining: make(chan struct{}),
	}
	s.server = tcpserve.Server{MaxConns: cfg.MaxConns, IdleTimeout: max(cfg.IdleTimeout, 0), Handle: s.serve, Logger: cfg.Logger}
	if src, ok := cfg.Store.(KeySource); ok && cfg.KnownKeysRefresh > 0 {
		s.known = &knownKeys{src: src}
	}
	s.writeCtx, s.cancelWrite = context.WithCancel(context.Background())
	s.stats.batchSeconds = s.set.NewHistogram("lars_reporter_batch_seconds")
	s.stats.pruneSeconds = s.set.NewHistogram("lars_reporter_retention_sweep_seconds")
	if cfg.TLS != nil && cfg.TLS.Mutual() {
		s.peers = peerstats.New(0)
	}
	return s, nil
}

// Ready is closed once the service listens.
func (s *Service) Ready() <-chan struct{} { return s.ready }

// Addr is the address the service listens on; valid once Ready is closed.
func (s *Service) Addr() net.Addr { return s.addr }

// Run listens, reads agents' reports and writes them to the store until ctx ends.
// Then it closes every connection, writes what is queued within FlushTimeout, drops
// (counted) what is left, and returns nil once its goroutines have ended. It returns an
// error only if it cannot listen. Run is called once.
func (s *Service) Run(ctx context.Context) error {
	defer s.cancelWrite()
	var background sync.WaitGroup
	defer background.Wait()
	bgCtx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	if s.known != nil {
		loaded := make(chan struct{})
		background.Add(1)
		go func() { defer background.Done(); s.refreshKeys(bgCtx, loaded) }()
		<-loaded // the first read is done (or failed: every key is kept until one succeeds)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", s.cfg.Listen, err)
	}
	s.addr = ln.Addr()
	if s.cfg.TLS != nil {
		ln = s.cfg.TLS.Listener(ln)
	}
	close(s.ready)
	s.cfg.Logger.Info("serving", "addr", s.addr.String(), "workers", s.cfg.Workers, "queue", s.cfg.QueueSize,
		"tls", tcpserve.TLSMode(s.cfg.TLS))

	var workers sync.WaitGroup
	for _, sh := range s.queue.shards {
		workers.Add(1)
		go func() { defer workers.Done(); s.newWorker(sh).run() }()
	}
	if p, ok := s.cfg.Store.(Pruner); ok && s.cfg.retentionOn() {
		background.Add(1)
		go func() { defer background.Done(); s.pruneLoop(bgCtx, p) }()
	}
	accepting := make(chan struct{})
	go func() { defer close(accepting); s.server.Serve(ln) }()
	<-ctx.Done()
	ln.Close()
	<-accepting
	s.server.Close() // no reader is left: nothing more is queued
	s.flush(&workers)
	return nil
}

// flush lets the workers write what is queued, for FlushTimeout at most, then stops
// them and counts the rows left as dropped.
func (s *Service) flush(workers *sync.WaitGroup) {
	queued := s.queue.depth()
	start := time.Now()
	close(s.draining)
	done := make(chan struct{})
	go func() { workers.Wait(); close(done) }()
	t := time.NewTimer(s.cfg.FlushTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.cancelWrite()
		<-done
	}
	var left int
	for _, sh := range s.queue.shards {
		left += sh.discard()
	}
	s.stats.droppedShutdown.Add(uint64(left))
	if left > 0 {
		s.cfg.Logger.Warn("flush incomplete: rows dropped", "queued", queued, "dropped", left,
			"took", time.Since(start).Round(time.Millisecond).String())
	} else {
		s.cfg.Logger.Info("flushed", "rows", queued, "took", time.Since(start).Round(time.Millisecond).String())
	}
}

// serve reads one agent's connection until it ends.
func (s *Service) serve(nc net.Conn) {
	a := s.admit(nc)
	if !a.OK {
		nc.Close()
		return
	}
	c := newConn(s, nc)
	c.grant, c.peer = a.Grant, s.peers.Connected(a.Peer.String())
	defer c.peer.Disconnected()
	if err := c.readLoop(); errors.Is(err, errBadFrame) {
		s.stats.badFrames.Add(1)
	}
	c.close()
	if c.droppedOwn > 0 {
		s.cfg.Logger.Warn("connection closed that flooded the queue", "remote", nc.RemoteAddr().String(),
			"own_rows_dropped", c.droppedOwn)
	}
}

// enqueueReport queues one ServerCallStatus row per result of req for its owner o (the
// connection it came on), and returns how many rows of o the full queue dropped to
// make room (o holds at least its share: it floods). A report without ts is stamped
// with the time it was read, and so is one whose ts is later (clamped). The frame is counted once its rows are
// queued or counted as dropped, so that a reader of Stats who sees the frame also sees
// its rows.
func (s *Service) enqueueReport(req *larspb.ReportStatusRequest, o owner, grant *policy.PeerGrant) uint64 {
	if len(req.Results) == 0 {
		s.stats.frames.Add(1)
		return 0
	}
	s.stats.results.Add(uint64(len(req.Results)))
	key := route.Key{Modid: req.Modid, Cmdid: req.Cmdid}
	if grant != nil && !grant.Allows(key) {
		s.stats.droppedPolicy.Add(uint64(len(req.Results)))
		s.stats.frames.Add(1)
		return 0
	}
	if s.known != nil && !s.known.allows(key) {
		s.stats.droppedUnknownKey.Add(uint64(len(req.Results)))
		s.stats.frames.Add(1)
		return 0
	}
	ts := s.stamp(int64(req.Ts))
	var coalesced, droppedOwn, droppedHeaviest uint64
	for _, r := range req.Results {
		if uint32(r.Port) > math.MaxUint16 { // route.Host keeps 16 bits: no route has it
			s.stats.droppedBadHost.Add(1)
			continue
		}
		row := store.CallStatus{
			Key:    route.Key{Modid: req.Modid, Cmdid: req.Cmdid},
			Host:   route.FromWire(r.Ip, r.Port),
			Caller: req.Caller,
			Succ:   r.Succ,
			Err:    r.Err,
			TS:     ts,
			// Overload is stored as Lars's char(1) by the store.
			Overload: r.Overload,
		}
		switch s.queue.shardOf(&row).push(&row, o) {
		case pushCoalesced:
			coalesced++
		case pushDroppedOwn:
			droppedOwn++
		case pushDroppedHeaviest:
			droppedHeaviest++
		}
	}
	if coalesced > 0 {
		s.stats.coalesced.Add(coalesced)
	}
	if droppedOwn+droppedHeaviest > 0 {
		s.stats.droppedOwn.Add(droppedOwn)
		s.stats.droppedHeaviest.Add(droppedHeaviest)
		s.stats.droppedQueueFull.Add(droppedOwn + droppedHeaviest)
	}
	s.stats.frames.Add(1)
	return droppedOwn
}

// Stats returns the service's figures.
func (s *Service) Stats() Stats {
	st := Stats{
		Connections:      s.server.Open(),
		Accepted:         s.server.Accepted(),
		Refused:          s.server.Refused(),
		IdleClosed:       s.server.IdleClosed(),
		Evicted:          s.server.Evicted(),
		BadFrames:        s.stats.badFrames.Load(),
		Frames:           s.stats.frames.Load(),
		Results:          s.stats.results.Load(),
		Coalesced:        s.stats.coalesced.Load(),
		RowsWritten:      s.stats.rowsWritten.Load(),
		Batches:          s.stats.batches.Load(),
		DBErrors:         s.stats.dbErrors.Load(),
		QueueRows:        s.queue.depth(),
		QueueCapacity:    s.cfg.QueueSize,
		DroppedQueueFull: s.stats.droppedQueueFull.Load(),
		DroppedDBError:   s.stats.droppedDBError.Load(),
		DroppedShutdown:  s.stats.droppedShutdown.Load(),

		DroppedUnknownKey: s.stats.droppedUnknownKey.Load(),
		DroppedBadHost:    s.stats.droppedBadHost.Load(),
		DroppedPolicy:     s.stats.droppedPolicy.Load(),
		NotAllowed:        s.stats.notAllowed.Load(),
		FutureClamped:     s.stats.futureClamped.Load(),
		DroppedOwn:        s.stats.droppedOwn.Load(),
		DroppedHeaviest:   s.stats.droppedHeaviest.Load(),
		KeyLoads:          s.stats.keyLoads.Load(),
		KeyLoadErrors:     s.stats.keyLoadErrors.Load(),
		StatusPruned:      s.stats.statusPruned.Load(),
		HistoryPruned:     s.stats.historyPruned.Load(),
		PruneSweeps:       s.stats.pruneSweeps.Load(),
		PruneErrors:       s.stats.pruneErrors.Load(),
	}
	if s.known != nil {
		st.KnownKeys, st.KnownKeysLoaded = s.known.size()
	}
	return st
}

// Health returns whether the store takes the service's writes.
func (s *Service) Health() Health {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return Health{
		StoreUp:   s.health.downAt.IsZero(),
		LastWrite: s.health.lastWrite,
		DownSince: s.health.downAt,
		LastError: s.health.lastErr,
	}
}
