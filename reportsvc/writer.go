package reportsvc

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/larsgo/lars/internal/backoff"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// worker writes one shard's rows to the store, a batch per statement.
type worker struct {
	svc     *Service
	shard   *shard
	batch   []store.CallStatus // reused for every batch
	backoff *backoff.Backoff
}

func (s *Service) newWorker(sh *shard) *worker {
	return &worker{
		svc:     s,
		shard:   sh,
		batch:   make([]store.CallStatus, 0, s.cfg.BatchSize),
		backoff: backoff.New(s.cfg.RetryBackoff, s.cfg.MaxBackoff, backoff.EqualJitter, nil),
	}
}

// run writes batches while rows are queued and waits for more otherwise; once the
// service drains, it ends when its shard is empty or the flush ran out of time.
func (w *worker) run() {
	s := w.svc
	for s.writeCtx.Err() == nil {
		w.batch = w.shard.take(w.batch[:0], s.cfg.BatchSize)
		if len(w.batch) == 0 {
			select {
			case <-s.draining:
				return // no reader is left and nothing is queued
			default:
			}
			select {
			case <-w.shard.ready:
			case <-s.draining:
			}
			continue
		}
		w.write(w.batch)
	}
}

// write writes batch in one statement, trying again with backoff up to Retries times.
// A batch that still fails goes back to the queue, but for the rows replaced by newer
// results meanwhile and those that no longer fit (dropped, counted).
func (w *worker) write(batch []store.CallStatus) {
	s := w.svc
	// Rows in key order take InnoDB's row locks in one order in every statement.
	slices.SortFunc(batch, compareRows)
	for attempt := 0; ; attempt++ {
		start := time.Now()
		ctx, cancel := context.WithTimeout(s.writeCtx, s.cfg.WriteTimeout)
		err := s.cfg.Store.UpsertCallStatus(ctx, batch)
		cancel()
		if err == nil {
			s.stats.batchSeconds.UpdateDuration(start)
			s.stats.batches.Add(1)
			s.stats.rowsWritten.Add(uint64(len(batch)))
			w.backoff.Reset()
			if s.health.succeeded(time.Now()) {
				s.cfg.Logger.Info("report store takes writes again")
			}
			return
		}
		s.stats.dbErrors.Add(1)
		if s.health.failed(time.Now(), err) {
			s.cfg.Logger.Warn("report store write failed; retrying, results queue meanwhile", "err", err)
		}
		if attempt >= s.cfg.Retries || !w.pause() {
			break
		}
	}
	requeued, superseded := w.shard.putBack(batch)
	s.stats.coalesced.Add(uint64(superseded))
	s.stats.droppedDBError.Add(uint64(len(batch) - requeued - superseded))
}

// pause waits for the next backoff delay; false if the flush at shutdown ended first.
func (w *worker) pause() bool {
	t := time.NewTimer(w.backoff.Next())
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-w.svc.writeCtx.Done():
		return false
	}
}

// compareRows orders rows by ServerCallStatus's primary key as MySQL does: modid and
// cmdid signed, ip, port and caller unsigned.
func compareRows(a, b store.CallStatus) int {
	if c := cmp.Compare(a.Key.Modid, b.Key.Modid); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Key.Cmdid, b.Key.Cmdid); c != 0 {
		return c
	}
	if c := route.CompareAddr(a.Host, b.Host); c != 0 { // IPv4: by the unsigned ip, then port
		return c
	}
	return cmp.Compare(uint32(a.Caller), uint32(b.Caller))
}
