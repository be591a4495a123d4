package routesvc

import (
	"context"
	"fmt"
	"time"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/store"
)

// leaseStoreTimeout bounds one store call of the lease worker and loop.
const leaseStoreTimeout = 10 * time.Second

// leaseJob is a Lease frame whose answer needs the store: results holds the answer of
// every entry, those at idx to be filled from the store's answer to reqs.
type leaseJob struct {
	c       *conn
	results []*larspb.LeaseResult
	idx     []int
	reqs    []store.LeaseRequest
}

// submit queues job for the worker; false if the queue is full.
func (m *leaseManager) submit(job *leaseJob) bool {
	job.c.leaseJobs.Add(1)
	select {
	case m.jobs <- job:
		return true
	default:
		job.c.leaseJobs.Add(-1)
		return false
	}
}

// Bounds of one go of the worker: the jobs it applies in one store call.
const (
	maxGoJobs    = 64
	maxGoEntries = 4096
)

// work runs the queued jobs until ctx ends: the job it receives and those queued
// behind it at that moment (at most maxGoJobs and maxGoEntries entries), in one store
// call, answered in queue order.
func (m *leaseManager) work(ctx context.Context) {
	var next *leaseJob // received, left for the next go
	for {
		if next == nil {
			select {
			case <-ctx.Done():
				return
			case next = <-m.jobs:
			}
		}
		jobs, entries := []*leaseJob{next}, len(next.reqs)
		next = nil
	more:
		for len(jobs) < maxGoJobs {
			select {
			case job := <-m.jobs:
				if entries+len(job.reqs) > maxGoEntries {
					next = job
					break more
				}
				jobs, entries = append(jobs, job), entries+len(job.reqs)
			default:
				break more
			}
		}
		m.run(ctx, jobs)
	}
}

// run applies jobs to the store in one call, records what it holds, and queues the
// answer of each job to its connection, in order.
func (m *leaseManager) run(ctx context.Context, jobs []*leaseJob) {
	var (
		batches []store.LeaseBatch
		rows    int
	)
	for _, job := range jobs {
		if len(job.reqs) > 0 {
			batches = append(batches, store.LeaseBatch{Owner: job.c.owner, Reqs: job.reqs})
			rows += len(job.reqs)
		}
	}
	var (
		res     [][]store.Registration
		err     error
		written time.Time
	)
	if len(batches) > 0 {
		written = m.now()
		sctx, cancel := context.WithTimeout(ctx, m.storeTimeout)
		res, err = m.st.ApplyLeaseBatches(sctx, batches)
		cancel()
		m.stats.applyCalls.Add(1)
		m.stats.applyRows.Add(uint64(rows))
		if err == nil && len(res) != len(batches) {
			err = fmt.Errorf("%d answers to %d frames", len(res), len(batches))
		}
		if err != nil {
			m.storeFailed("cannot apply leases", err)
		}
	}
	b := 0
	for _, job := range jobs {
		if len(job.reqs) > 0 {
			if b < len(res) {
				m.applied(job, res[b], written)
			} else {
				for _, i := range job.idx {
					m.stats.failed.Add(1)
					job.results[i].Status, job.results[i].Message = larspb.LeaseStatus_LEASE_FAILED, "route store: "+err.Error()
				}
			}
			b++
		}
		m.answer(job.c, job.results)
		job.c.leaseJobs.Add(-1)
	}
}

// applied records the store's answers res to job's requests and sets their results.
func (m *leaseManager) applied(job *leaseJob, res []store.Registration, written time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for j, i := range job.idx {
		r, out := job.reqs[j], job.results[i]
		lk := store.LeaseKey{Key: r.Key, Host: r.Host}
		switch res[j] {
		case store.Registered:
			m.stats.registered.Add(1)
			m.hold(job.c, lk, r.TTL, written, false)
		case store.Renewed:
			m.stats.renewedInStore.Add(1)
			m.hold(job.c, lk, r.TTL, written, false)
		case store.Static:
			out.Status = larspb.LeaseStatus_LEASE_STATIC
			m.hold(job.c, lk, r.TTL, written, true)
		case store.Removed:
			out.Status, out.Message = larspb.LeaseStatus_LEASE_REMOVED, removedMessage
			m.forget(lk)
		case store.Deregistered:
			m.stats.deregistered.Add(1)
			m.forget(lk)
		}
	}
}

// removedMessage explains LEASE_REMOVED.
const removedMessage = "removed by an operator: it stays out until the instance registers anew (REGISTER_NEW)"

// storeFailed logs (throttled) a failed store call.
func (m *leaseManager) storeFailed(what string, err error) {
	m.stats.storeErrors.Add(1)
	if ok, held := m.failedLog.Allow(time.Now()); ok {
		m.svc.cfg.Logger.Warn("leases: "+what, "err", err, "held_back", held)
	}
}
