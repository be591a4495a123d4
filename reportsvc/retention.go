package reportsvc

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/store"
)

// Pruner deletes what the retention no longer keeps; *store.DB implements it. A Store
// that does not implement it keeps every row.
type Pruner interface {
	NewCallStatusSweep(before time.Time) *store.CallStatusSweep
	NewHistorySweep(ctx context.Context, r store.HistoryRetention) (*store.HistorySweep, error)
}

var _ Pruner = (*store.DB)(nil)

// retentionOn reports whether the service prunes anything.
func (c Config) retentionOn() bool {
	return c.StatusRetention > 0 || c.HistoryRetention > 0 || c.HistoryKeepPerKey > 0
}

// pruneLoop prunes once now, then every RetentionInterval, until ctx ends.
func (s *Service) pruneLoop(ctx context.Context, p Pruner) {
	t := time.NewTicker(s.cfg.RetentionInterval)
	defer t.Stop()
	for {
		s.prune(ctx, p)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// prune runs one sweep of each table the retention bounds, a batch of
// RetentionBatch rows per statement, each statement bounded by WriteTimeout. A failed
// statement ends that table's sweep, counted and logged; the next sweep starts over.
func (s *Service) prune(ctx context.Context, p Pruner) {
	now := s.cfg.Now()
	start := time.Now()
	var status, history int64
	if s.cfg.StatusRetention > 0 {
		sweep := p.NewCallStatusSweep(now.Add(-s.cfg.StatusRetention))
		status = s.runSweep(ctx, "ServerCallStatus", sweep.Next, &s.stats.statusPruned)
	}
	if s.cfg.HistoryRetention > 0 || s.cfg.HistoryKeepPerKey > 0 {
		r := store.HistoryRetention{KeepPerKey: s.cfg.HistoryKeepPerKey}
		if s.cfg.HistoryRetention > 0 {
			r.Before = now.Add(-s.cfg.HistoryRetention)
		}
		sctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
		sweep, err := p.NewHistorySweep(sctx, r)
		cancel()
		if err != nil {
			s.pruneFailed(ctx, "RouteHistory", err)
		} else {
			history = s.runSweep(ctx, "RouteHistory", sweep.Next, &s.stats.historyPruned)
		}
	}
	s.stats.pruneSweeps.Add(1)
	s.stats.pruneSeconds.UpdateDuration(start)
	if status+history > 0 {
		s.cfg.Logger.Info("retention: old rows deleted", "ServerCallStatus", status, "RouteHistory", history,
			"took", time.Since(start).Round(time.Millisecond).String())
	}
}

// runSweep calls next until the sweep is done, ctx ends or a statement fails, adding
// the rows deleted to count as it goes, and returns them.
func (s *Service) runSweep(ctx context.Context, table string, next func(context.Context, int) (int64, bool, error), count *atomic.Uint64) int64 {
	var total int64
	for ctx.Err() == nil {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
		n, done, err := next(sctx, s.cfg.RetentionBatch)
		cancel()
		total += n
		count.Add(uint64(n))
		if err != nil {
			s.pruneFailed(ctx, table, err)
			break
		}
		if done {
			break
		}
	}
	return total
}

// pruneFailed counts and logs a failed retention statement, unless the service is
// stopping.
func (s *Service) pruneFailed(ctx context.Context, table string, err error) {
	if ctx.Err() != nil {
		return
	}
	s.stats.pruneErrors.Add(1)
	s.cfg.Logger.Warn("retention: cannot delete old rows; trying again at the next sweep", "table", table, "err", err)
}
