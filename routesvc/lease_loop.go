package routesvc

import (
	"context"
	"time"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/store"
)

// leaseGrain is what the store rounds an extension down to (store.Renew).
const leaseGrain = 100 * time.Millisecond

// expirePage is how many leases one ExpireLeases takes; expirePages bound the pages
// a round takes, so that a mass expiry does not hold up the renewals.
const (
	expirePage  = 1000
	expirePages = 10
)

// pruneEvery is how often the tombstones past store.TombstoneAge are deleted.
const pruneEvery = time.Minute

// ensure creates the lease table if registration is on and it was not made yet;
// false if it cannot (logged, tried again next round).
func (m *leaseManager) ensure(ctx context.Context) bool {
	if m.ensured {
		return true
	}
	sctx, cancel := context.WithTimeout(ctx, m.storeTimeout)
	defer cancel()
	if err := m.st.EnsureLeases(sctx); err != nil {
		m.storeFailed("cannot create the lease table", err)
		return false
	}
	m.ensured = true
	return true
}

// loop writes the renewals due and expires the leases that ended, every
// Config.LeaseFlush, until ctx ends; then it writes every renewal seen (flush on
// shutdown), so that a restart expires nothing still renewed.
func (m *leaseManager) loop(ctx context.Context) {
	t := time.NewTicker(m.svc.cfg.LeaseFlush)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), m.storeTimeout)
			m.flush(fctx, true)
			cancel()
			return
		case <-t.C:
			m.tick(ctx)
		}
	}
}

// tick is one round of the loop.
func (m *leaseManager) tick(ctx context.Context) {
	if !m.ensure(ctx) {
		return
	}
	m.flush(ctx, false)
	m.expire(ctx)
	if now := m.now(); now.Sub(m.lastPrune) >= pruneEvery {
		m.lastPrune = now
		sctx, cancel := context.WithTimeout(ctx, m.storeTimeout)
		if n, err := m.st.PruneTombstones(sctx, store.TombstoneAge); err != nil {
			m.storeFailed("cannot prune tombstones", err)
		} else {
			m.stats.tombstonesPruned.Add(uint64(n))
		}
		cancel()
	}
}

// margin is how close to its end in the store a renewed lease is written: a quarter
// of its ttl, but at least two rounds of the loop (the write must land before the
// end, or another route service expires it), at most half the ttl. An agent renews
// at a third of the ttl, so a lease is written about every ttl - margin - ttl/6
// (measured: TestKeepRenewsFromMemory, TestIdleLeaseWrites): 0.58 ttl at ttl >= 8
// loops, not at every renewal.
func (m *leaseManager) margin(ttl time.Duration) time.Duration {
	return min(max(ttl/4, 2*m.svc.cfg.LeaseFlush), ttl/2)
}

// flush writes, in one store.Renew, the renewals of the leases renewed since written
// whose end in the store is within margin (all of them when all): each to the
// agent's last renewal plus its ttl. It forgets leases nobody renews once their end
// passed, tells the owners of leases an operator removed (an unasked LEASE_REMOVED),
// and registers again those found gone whose connection is open.
func (m *leaseManager) flush(ctx context.Context, all bool) {
	now := m.now()
	var ren []store.Renewal
	var gens []uint64
	m.mu.Lock()
	for lk, l := range m.held {
		switch {
		case !l.dirty() || l.static:
			if !now.Before(l.until) {
				m.forget(lk) // not renewed: it ends in the store
			}
			continue
		case !all && l.until.Sub(now) > m.margin(l.ttl):
			continue
		}
		ext := l.ttl - now.Sub(l.last)
		if ext < leaseGrain {
			l.flushed = l.gen // renewed too long ago: let it end
			continue
		}
		ren = append(ren, store.Renewal{LeaseKey: lk, Extend: ext})
		gens = append(gens, l.gen)
	}
	m.mu.Unlock()
	if len(ren) == 0 {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, m.storeTimeout)
	rep, err := m.st.Renew(sctx, ren)
	cancel()
	m.stats.renewCalls.Add(1)
	m.stats.renewStatements.Add(uint64(rep.Statements))
	m.stats.renewRows.Add(uint64(rep.Renewed))
	if err != nil {
		m.storeFailed("cannot renew leases", err)
		return // still dirty: the next round tries again
	}
	m.renewed(ctx, now, ren, gens, rep)
}

// renewed records a flush's outcome.
func (m *leaseManager) renewed(ctx context.Context, now time.Time, ren []store.Renewal, gens []uint64, rep store.RenewReport) {
	gone, removed := keySet(rep.Gone), keySet(rep.Removed)
	tell := map[*conn][]*larspb.LeaseResult{}
	again := map[*conn]*leaseJob{}
	m.mu.Lock()
	for j, r := range ren {
		l := m.held[r.LeaseKey]
		switch {
		case l == nil:
		case removed[r.LeaseKey]:
			if l.conn != nil {
				tell[l.conn] = append(tell[l.conn], removedResult(r.LeaseKey))
			}
			m.forget(r.LeaseKey)
		case gone[r.LeaseKey] && l.conn != nil:
			job := again[l.conn]
			if job == nil {
				job = &leaseJob{c: l.conn}
				again[l.conn] = job
			}
			job.idx = append(job.idx, len(job.results))
			job.results = append(job.results, &larspb.LeaseResult{})
			job.reqs = append(job.reqs, store.LeaseRequest{Key: r.Key, Host: r.Host, TTL: r.Extend.Truncate(leaseGrain), Op: store.LeaseKeep})
		case gone[r.LeaseKey]:
			m.forget(r.LeaseKey)
		default:
			l.until, l.flushed = now.Add(r.Extend.Truncate(leaseGrain)), gens[j]
		}
	}
	m.mu.Unlock()
	for c, job := range again {
		m.stats.reregistered.Add(uint64(len(job.reqs)))
		m.reregister(ctx, job)
		for _, r := range job.results {
			if r.Status == larspb.LeaseStatus_LEASE_REMOVED {
				tell[c] = append(tell[c], r)
			}
		}
	}
	for c, results := range tell {
		m.stats.removedTold.Add(uint64(len(results)))
		for len(results) > 0 {
			n := min(len(results), MaxLeaseEntries)
			m.answer(c, results[:n])
			results = results[n:]
		}
	}
}

// reregister registers again, in the store, leases a flush found gone (expired by the
// store meanwhile) while their agent still renews them.
func (m *leaseManager) reregister(ctx context.Context, job *leaseJob) {
	written := m.now()
	sctx, cancel := context.WithTimeout(ctx, m.storeTimeout)
	res, err := m.st.ApplyLeases(sctx, job.c.owner, job.reqs)
	cancel()
	m.stats.applyCalls.Add(1)
	m.stats.applyRows.Add(uint64(len(job.reqs)))
	if err != nil {
		m.storeFailed("cannot register gone leases again", err)
		return
	}
	for j, r := range job.reqs {
		job.results[j].Modid, job.results[j].Cmdid, job.results[j].Op = r.Key.Modid, r.Key.Cmdid, larspb.LeaseOp_LEASE_KEEP
		job.results[j].Host = hostInfo(r.Host)
	}
	m.applied(job, res, written)
}

// removedResult is the unasked answer that an operator removed lk.
func removedResult(lk store.LeaseKey) *larspb.LeaseResult {
	return &larspb.LeaseResult{Modid: lk.Key.Modid, Cmdid: lk.Key.Cmdid, Host: hostInfo(lk.Host),
		Op: larspb.LeaseOp_LEASE_KEEP, Status: larspb.LeaseStatus_LEASE_REMOVED, Message: removedMessage}
}

// keySet returns keys as a set.
func keySet(keys []store.LeaseKey) map[store.LeaseKey]bool {
	s := make(map[store.LeaseKey]bool, len(keys))
	for _, k := range keys {
		s[k] = true
	}
	return s
}

// expire removes the instances whose leases ended (store.ExpireLeases: exactly one
// route service removes each), forgetting them here; the push follows through the
// route's change detection.
func (m *leaseManager) expire(ctx context.Context) {
	for range expirePages {
		sctx, cancel := context.WithTimeout(ctx, m.storeTimeout)
		ls, err := m.st.ExpireLeases(sctx, expirePage)
		cancel()
		m.stats.expireCalls.Add(1)
		if err != nil {
			m.storeFailed("cannot expire leases", err)
			return
		}
		m.stats.expired.Add(uint64(len(ls)))
		if len(ls) > 0 {
			m.mu.Lock()
			for _, l := range ls {
				m.forget(store.LeaseKey{Key: l.Key, Host: l.Host})
			}
			m.mu.Unlock()
		}
		if len(ls) < expirePage {
			return
		}
	}
}
