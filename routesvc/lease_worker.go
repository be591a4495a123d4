package routesvc

import (
	"context"
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

// work runs the queued jobs until ctx ends.
func (m *leaseManager) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-m.jobs:
			m.run(ctx, job)
		}
	}
}

// run applies job to the store, records what it holds, and queues the answer to its
// connection.
func (m *leaseManager) run(ctx context.Context, job *leaseJob) {
	defer job.c.leaseJobs.Add(-1)
	if len(job.reqs) > 0 {
		written := m.now()
		sctx, cancel := context.WithTimeout(ctx, leaseStoreTimeout)
		res, err := m.st.ApplyLeases(sctx, job.c.owner, job.reqs)
		cancel()
		m.stats.applyCalls.Add(1)
		m.stats.applyRows.Add(uint64(len(job.reqs)))
		if err != nil {
			m.storeFailed("cannot apply leases", err)
			for _, i := range job.idx {
				m.stats.failed.Add(1)
				job.results[i].Status, job.results[i].Message = larspb.LeaseStatus_LEASE_FAILED, "route store: "+err.Error()
			}
		} else {
			m.applied(job, res, written)
		}
	}
	m.answer(job.c, job.results)
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
