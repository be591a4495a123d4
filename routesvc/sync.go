package routesvc

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/internal/backoff"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
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
	// signal is the store's change signal, nil if it has none; pollEvery is how often
	// the stamp is read whatever the signal says (Config.Poll or its default).
	signal    changeSignal
	pollEvery time.Duration
	// openSig, when set (tests), opens the change signal in place of the store's.
	openSig func(ctx context.Context) (changeSignal, error)
}

// changeSignal is store.ChangeSignal as the syncer uses it.
type changeSignal interface {
	Changed(ctx context.Context) (bool, error)
	Writes() <-chan struct{}
	Close() error
}

// hotWindow is how long after a write to the store's files the change signal is read
// every Watch: the write comes just before its commit is visible, and a transaction
// writes more than once.
const hotWindow = 10 * time.Millisecond

// signalled is a store with a change signal (store.DB: on SQLite).
type signalled interface {
	OpenChangeSignal(ctx context.Context) (*store.ChangeSignal, error)
}

// openSignal opens the store's change signal and sets how often the stamp is read:
// Config.Poll, else DefaultPoll with a signal and DefaultPollUnsignalled without. A
// signal that cannot be opened is logged and done without.
func (s *syncer) openSignal(ctx context.Context) {
	open := s.openSig
	if st, ok := s.svc.cfg.Store.(signalled); ok && open == nil {
		open = func(ctx context.Context) (changeSignal, error) {
			sig, err := st.OpenChangeSignal(ctx)
			if sig == nil { // a nil *store.ChangeSignal is no signal, not a nil-valued interface
				return nil, err
			}
			return sig, err
		}
	}
	if open != nil {
		sig, err := open(ctx)
		switch {
		case err != nil:
			s.svc.cfg.Logger.Warn("no change signal: polling the stamp", "err", err)
		case sig != nil:
			s.signal = sig
		}
	}
	s.pollEvery = s.svc.cfg.Poll
	if s.pollEvery <= 0 {
		s.pollEvery = DefaultPollUnsignalled
		if s.signal != nil {
			s.pollEvery = DefaultPoll
		}
	}
}

// closeSignal gives the change signal's connection back.
func (s *syncer) closeSignal() {
	if s.signal != nil {
		s.signal.Close()
	}
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
	routes := make(map[route.Key][]route.Host)
	err = s.svc.cfg.Store.ScanRoutes(ctx, func(k route.Key, h route.Host) {
		routes[k] = append(routes[k], h)
	})
	if err != nil {
		return 0, err
	}
	for k, hosts := range routes {
		if s.svc.table.set(k, route.Normalize(hosts)) {
			changed++
		}
	}
	var gone []route.Key
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
// of the new RouteChange rows, or everything (fullLoad, which pushes only the keys
// that differ) when the rows cannot tell it all:
//   - rows after the last one applied were deleted before they were read (the oldest
//     id left is past it: a C++ lars_dns on the same store deletes every row it has
//     seen after each of its polls);
//   - the version moved beyond every new row's (a writer that skips RouteChange), or
//     moved with no new row at all.
//
// Rows deleted after they were applied (ids behind the last applied) change nothing.
func (s *syncer) poll(ctx context.Context) error {
	s.svc.stats.polls.Add(1)
	st, err := s.svc.cfg.Store.Stamp(ctx)
	if err != nil {
		return err
	}
	last := s.lastChange.Load()
	switch {
	case st.LastChange > last && st.FirstChange > last+1:
		s.svc.stats.gaps.Add(1)
		s.svc.cfg.Logger.Debug("change rows deleted before they were read: reloading every route",
			"last_applied", last, "oldest_left", st.FirstChange)
		_, err = s.fullLoad(ctx)
	case st.LastChange > last:
		var newest uint64
		if newest, err = s.applyChanges(ctx); err != nil {
			return err
		}
		if newest < st.Version {
			s.svc.stats.gaps.Add(1)
			s.svc.cfg.Logger.Debug("version ahead of the change rows: reloading every route",
				"version", st.Version, "newest_row", newest)
			_, err = s.fullLoad(ctx)
			return err
		}
		s.version.Store(st.Version)
	case st.Version != s.version.Load():
		s.svc.stats.gaps.Add(1)
		s.svc.cfg.Logger.Debug("version changed without change rows: reloading every route",
			"version", st.Version, "was", s.version.Load())
		_, err = s.fullLoad(ctx)
	}
	return err
}

// applyChanges reads the RouteChange rows after the last applied one, page by page,
// reloads only their keys and applies them, and returns the newest version the rows
// carry. Its cost follows the number of changes, not the size of the table.
func (s *syncer) applyChanges(ctx context.Context) (newest uint64, err error) {
	for {
		start := time.Now()
		rows, err := s.svc.cfg.Store.ChangesAfter(ctx, s.lastChange.Load(), changePage)
		if err != nil {
			return newest, err
		}
		if len(rows) == 0 {
			return newest, nil
		}
		keys := make([]route.Key, 0, len(rows))
		seen := make(map[route.Key]struct{}, len(rows))
		for _, r := range rows {
			newest = max(newest, r.Version)
			if _, ok := seen[r.Key]; !ok {
				seen[r.Key] = struct{}{}
				keys = append(keys, r.Key)
			}
		}
		routes, err := s.svc.cfg.Store.Routes(ctx, keys)
		if err != nil {
			return newest, err
		}
		changed := 0
		for _, k := range keys {
			if s.svc.table.set(k, route.Normalize(routes[k])) {
				changed++
				if s.svc.leases != nil {
					s.svc.leases.routeChanged(k, routes[k])
				}
			}
		}
		s.lastChange.Store(rows[len(rows)-1].ID)
		s.svc.stats.changeRows.Add(uint64(len(rows)))
		s.svc.stats.keysChanged.Add(uint64(changed))
		s.svc.stats.changeLoadSeconds.UpdateDuration(start)
		if len(rows) < changePage {
			return newest, nil
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

// run keeps the table in step until ctx ends: a round (step) at once when the change
// signal moves, and every pollEvery in any case, while the store answers; with backoff
// (up to MaxBackoff) while it does not. The table keeps serving meanwhile. The signal
// is read every Watch, or, where the store's file writes are told (SQLite on Linux),
// only within hotWindow of a write: nothing is read while nothing is written.
func (s *syncer) run(ctx context.Context, b *backoff.Backoff) {
	t := time.NewTimer(0)
	defer t.Stop()
	var writes <-chan struct{}
	if s.signal != nil {
		writes = s.signal.Writes()
	}
	var hotUntil time.Time
	last := time.Now()
	delay := s.wait(last, hotUntil, writes != nil)
	for {
		t.Reset(delay)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-writes:
			hotUntil = time.Now().Add(hotWindow)
		}
		due, err := s.due(ctx, last)
		if err == nil && !due {
			delay = s.wait(last, hotUntil, writes != nil)
			continue
		}
		start := time.Now()
		if err == nil {
			err = s.step(ctx)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.failed(err)
			delay = b.Next()
			continue
		}
		s.svc.health.synced(time.Now())
		b.Reset()
		last = start
		delay = s.wait(last, hotUntil, writes != nil)
	}
}

// wait is the delay before the next look at the store, the last round having started
// at last: the poll's (polls start every pollEvery, however long a round took); the
// watch's when there is a change signal to read, unless its store tells of writes
// (told) and none came within hotWindow (until hotUntil).
func (s *syncer) wait(last, hotUntil time.Time, told bool) time.Duration {
	now := time.Now()
	poll := nextPoll(s.pollEvery, now.Sub(last))
	if s.signal == nil || (told && !now.Before(hotUntil)) {
		return poll
	}
	return min(s.svc.cfg.Watch, poll)
}

// due reports whether a round is due: no change signal, the poll's time come (the
// last round started at last), or the signal moved. A signal that cannot be read is
// the store failing (a SQLite file locked by another process waits out its busy
// timeout here first): the error, handled as a failed round's, without waiting out
// the round's own reads as well.
func (s *syncer) due(ctx context.Context, last time.Time) (bool, error) {
	if s.signal == nil || time.Since(last) >= s.pollEvery {
		return true, nil
	}
	s.svc.stats.signalReads.Add(1)
	changed, err := s.signal.Changed(ctx)
	if err != nil {
		return false, fmt.Errorf("cannot read the route store's change counter: %w", err)
	}
	if changed {
		s.svc.stats.signalFired.Add(1)
	}
	return changed, nil
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
