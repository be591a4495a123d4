package agent

import (
	"context"
	"errors"
	"io/fs"
	"time"
)

// DefaultCacheInterval is how often, at most, the route cache is written when the
// routes changed.
const DefaultCacheInterval = 5 * time.Second

// loadCache fills the table from the route cache at start: the agent serves those
// routes at once, and the route client pulls every one of them again when it
// connects, so fresh answers replace them (an empty answer removes a key as usual).
// A missing cache is the first start; a bad one is logged and ignored, never fatal.
func (a *Agent) loadCache() {
	routes, err := LoadCache(a.cfg.CacheFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		a.log.Info("no route cache yet", "file", a.cfg.CacheFile)
		return
	case err != nil:
		a.cacheErrors.Add(1)
		a.log.Warn("route cache ignored", "err", err)
		return
	}
	a.table.ReplaceRoutes(routes)
	a.cacheLoaded.Store(uint64(len(routes)))
	a.log.Info("serving the cached routes until the route service answers", "file", a.cfg.CacheFile, "keys", len(routes))
}

// cacheLoop writes the route cache every CacheInterval when the route service changed
// a route since the last write, until ctx is done.
func (a *Agent) cacheLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.CacheInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.writeCacheIfChanged()
		}
	}
}

// writeCacheIfChanged writes the cache when answers were applied since the last write.
func (a *Agent) writeCacheIfChanged() {
	applied := a.routes.Stats().AnswersApplied
	if applied == a.cacheApplied && a.cacheWritten.Load() > 0 {
		return
	}
	routes := tableRoutes(a.table)
	if err := WriteCache(a.cfg.CacheFile, routes, a.cfg.cacheMode()); err != nil {
		a.cacheErrors.Add(1)
		a.log.Warn("cannot write the route cache", "err", err)
		return
	}
	a.cacheApplied = applied
	a.cacheWritten.Add(1)
}
