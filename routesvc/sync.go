package routesvc

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/internal/backoff"
	"github.com/larsgo/lars/lb"
)

// changePage is how many RouteChange rows one read takes.
const changePage = 10000

// syncer keeps the table in step with the store. Its fields are owned by the goroutine
// that runs it (first load, then run).
type syncer struct {
	svc        *Service
	version    atomic.Uint64 // RouteVersion.version as of the last load or poll
	lastChange atomic.Uint64 // the newest RouteChange id applied
	lastReload time.Time
	lastPrune  time.Time
}

// fullLoad reads every route, applies to the table the keys whose hosts differ from
// what it serves (removing the keys that are gone) and returns how many keys changed.
// The stamp is read first, so a change committed during the read is applied again
// from its RouteChange row: applying a route twice is harmless.
func (s *syncer) fullLoad(ctx context.Context) (changed int, err error) {
	start := time.Now()
	st, err := s.svc.cfg.Store.Stamp(ctx)
	if err != nil {
		return 0, err
	}
	routes := make(map[lb.Key][]lb.Host)
	err = s.svc.cfg.Store.ScanRoutes(ctx, func(k lb.Key, h lb.Host) {
		routes[k] = append(routes[k], h)
	})
	if err != nil {
		return 0, err
	}
	for k, hosts := range routes {
		if s.svc.table.set(k, sortHosts(hosts)) {
			changed++
		}
	}
	var gone []lb.Key
	s.svc.table.walk(func(kr keyRoute) {
		if len(kr.Hosts) > 0 {
			if _, ok := routes[kr.Key]; !ok {
				gone = append(gone, kr.Key)
			}
		}
	})
	for _, k := range gone {
		if s.svc.table.set(k, nil) {
			changed++
		}
	}
	s.version.Store(st.Version)
	s.lastChange.Store(st.LastChange)
	s.lastReload = time.Now()
	s.svc.stats.fullLoads.Add(1)
	s.svc.stats.fullLoadSeconds.UpdateDuration(start)
	s.svc.stats.keysChanged.Add(uint64(changed))
	return changed, nil
}

// poll reads the store's stamp and applies what changed since the last one: the keys
// of the new RouteChange rows, or everything (fullLoad) when the version moved with no
// new change row (a writer that skips RouteChange) or the change ids went backwards (the
// table was emptied).
func (s *syncer) poll(ctx context.Context) error {
	s.svc.stats.polls.Add(1)
	st, err := s.svc.cfg.Store.Stamp(ctx)
	if err != nil {
		return err
	}
	switch {
	case st.LastChange < s.lastChange.Load():
		s.svc.cfg.Logger.Warn("change ids went backwards: reloading every route",
			"last_applied", s.lastChange.Load(), "newest", st.LastChange)
		_, err = s.fullLoad(ctx)
	case st.LastChange > s.lastChange.Load():
		err = s.applyChanges(ctx)
		if err == nil {
			s.version.Store(st.Version)
		}
	case st.Version != s.version.Load():
		s.svc.cfg.Logger.Info("version changed without change rows: reloading every route",
			"version", st.Version, "was", s.version.Load())
		_, err = s.fullLoad(ctx)
	}
	return err
}

// applyChanges reads the RouteChange rows after the last applied one, page by page,
// reloads only their keys and applies them. Its cost follows the number of changes,
// not the size of the table.
func (s *syncer) applyChanges(ctx context.Context) error {
	for {
		start := time.Now()
		rows, err := s.svc.cfg.Store.ChangesAfter(ctx, s.lastChange.Load(), changePage)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		keys := make([]lb.Key, 0, len(rows))
		seen := make(map[lb.Key]struct{}, len(rows))
		for _, r := range rows {
			if _, ok := seen[r.Key]; !ok {
				seen[r.Key] = struct{}{}
				keys = append(keys, r.Key)
			}
		}
		routes, err := s.svc.cfg.Store.Routes(ctx, keys)
		if err != nil {
			return err
		}
		changed := 0
		for _, k := range keys {
			if s.svc.table.set(k, sortHosts(routes[k])) {
				changed++
			}
		}
		s.lastChange.Store(rows[len(rows)-1].ID)
		s.svc.stats.changeRows.Add(uint64(len(rows)))
		s.svc.stats.keysChanged.Add(uint64(changed))
		s.svc.stats.changeLoadSeconds.UpdateDuration(start)
		if len(rows) < changePage {
			return nil
		}
	}
}

// prune deletes the RouteChange rows older than the retention.
func (s *syncer) prune(ctx context.Context, now time.Time) error {
	if s.svc.cfg.Retention < 0 {
		return nil
	}
	before := now.Add(-s.svc.cfg.Retention).Unix()
	if before <= 0 {
		return nil
	}
	n, err := s.svc.cfg.Store.DeleteChangesBefore(ctx, uint64(before))
	if err != nil {
		return err
	}
	s.lastPrune = now
	s.svc.stats.changeRowsDeleted.Add(uint64(n))
	return nil
}

// step does one round: a poll, and a full reload or a prune when one is due.
func (s *syncer) step(ctx context.Context) error {
	now := time.Now()
	if now.Sub(s.lastReload) >= s.svc.cfg.Reload {
		if _, err := s.fullLoad(ctx); err != nil {
			return fmt.Errorf("cannot reload routes: %w", err)
		}
	} else if err := s.poll(ctx); err != nil {
		return fmt.Errorf("cannot poll the route store: %w", err)
	}
	if s.svc.cfg.Retention >= 0 && now.Sub(s.lastPrune) >= min(s.svc.cfg.Retention/2, s.svc.cfg.Reload) {
		if err := s.prune(ctx, now); err != nil {
			return fmt.Errorf("cannot delete old change rows: %w", err)
		}
	}
	return nil
}

// firstLoad loads every route, retrying with backoff until it succeeds or ctx ends.
func (s *syncer) firstLoad(ctx context.Context, b *backoff.Backoff) error {
	for {
		_, err := s.fullLoad(ctx)
		if err == nil {
			s.svc.health.synced(time.Now())
			b.Reset()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.failed(err)
		if !sleep(ctx, b.Next()) {
			return ctx.Err()
		}
	}
}

// run polls until ctx ends: every Poll while the store answers, with backoff (from Poll
// up to MaxBackoff) while it does not. The table keeps serving meanwhile.
func (s *syncer) run(ctx context.Context, b *backoff.Backoff) {
	delay := s.svc.cfg.Poll
	for sleep(ctx, delay) {
		start := time.Now()
		if err := s.step(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.failed(err)
			delay = b.Next()
			continue
		}
		s.svc.health.synced(time.Now())
		b.Reset()
		delay = nextPoll(s.svc.cfg.Poll, time.Since(start))
	}
}

// nextPoll returns the wait before the next poll after a round that took took: polls
// start every poll, so a round that pushed many changes does not also delay the next
// by a whole poll; a round longer than poll is followed at once.
func nextPoll(poll, took time.Duration) time.Duration { return max(poll-took, 0) }

// failed counts and logs (throttled by the backoff itself) a failed round.
func (s *syncer) failed(err error) {
	s.svc.stats.pollErrors.Add(1)
	s.svc.health.failed(time.Now(), err)
	s.svc.cfg.Logger.Warn("route store unreachable: serving the last routes", "err", err)
}

// sleep waits d; false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
