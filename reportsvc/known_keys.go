package reportsvc

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// KeySource is where the service learns which keys the route store holds; *store.DB
// implements it. A Store that does not implement it keeps every report's rows.
type KeySource interface {
	// Stamp changes whenever routes change; the keys are read again only then.
	Stamp(ctx context.Context) (store.Stamp, error)
	// RouteKeys returns every key that has a host.
	RouteKeys(ctx context.Context) ([]route.Key, error)
}

var _ KeySource = (*store.DB)(nil)

// knownKeys is the set of keys the route store holds, as last read. Until the first
// read succeeds it knows nothing and lets every key through: a route store that is
// briefly unreachable at start must not make the service throw real reports away, and
// what a flood gets in meanwhile is bounded by the queue and expired by the status
// retention.
type knownKeys struct {
	src   KeySource
	set   atomic.Pointer[map[route.Key]struct{}] // nil until the first load
	stamp store.Stamp                            // of the loaded set; only the refresher uses it
}

// allows reports whether rows of k are kept: k is in the set, or no set was loaded yet.
// It neither allocates nor blocks.
func (kk *knownKeys) allows(k route.Key) bool {
	set := kk.set.Load()
	if set == nil {
		return true
	}
	_, ok := (*set)[k]
	return ok
}

// size returns the keys in the set and whether one was loaded.
func (kk *knownKeys) size() (int, bool) {
	set := kk.set.Load()
	if set == nil {
		return 0, false
	}
	return len(*set), true
}

// refresh reads the stamp and, when it changed since the set was loaded (or no set
// was), the keys; it reports whether it read them.
func (kk *knownKeys) refresh(ctx context.Context) (reloaded bool, err error) {
	stamp, err := kk.src.Stamp(ctx)
	if err != nil {
		return false, err
	}
	if kk.set.Load() != nil && stamp == kk.stamp {
		return false, nil
	}
	keys, err := kk.src.RouteKeys(ctx)
	if err != nil {
		return false, err
	}
	set := make(map[route.Key]struct{}, len(keys))
	for _, k := range keys {
		set[k] = struct{}{}
	}
	kk.set.Store(&set)
	kk.stamp = stamp
	return true, nil
}

// refreshKeys keeps the known keys current: it loads them once now, then every
// KnownKeysRefresh, until ctx ends. Each read is bounded by WriteTimeout; a failed read
// keeps the previous set (or none), counted and logged once per outage.
func (s *Service) refreshKeys(ctx context.Context, first chan<- struct{}) {
	kk := s.known
	failing := false
	load := func() {
		rctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
		reloaded, err := kk.refresh(rctx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			s.stats.keyLoadErrors.Add(1)
			if !failing {
				_, loaded := kk.size()
				s.cfg.Logger.Warn("cannot read the route keys; keeping the previous set", "err", err, "loaded", loaded)
			}
			failing = true
		case err == nil:
			if failing {
				s.cfg.Logger.Info("route keys read again")
			}
			failing = false
			if reloaded {
				s.stats.keyLoads.Add(1)
				n, _ := kk.size()
				s.cfg.Logger.Debug("route keys loaded", "keys", n)
			}
		}
	}
	load()
	close(first)
	t := time.NewTicker(s.cfg.KnownKeysRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			load()
		}
	}
}
