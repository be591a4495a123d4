package routesvc

import (
	"io"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// leaseFrame says what became of a Lease frame.
type leaseFrame int

const (
	leaseFrameTaken     leaseFrame = iota // parsed and answered
	leaseFrameMalformed                   // did not parse: the connection closed
	leaseFrameTooMany                     // more than MaxLeaseEntries entries: dropped
	leaseFrameOversized                   // longer than a frame may be: the connection closed
	numLeaseFrames
)

// leaseFrameNames are the result labels of lars_dns_lease_frames_total.
var leaseFrameNames = [numLeaseFrames]string{"taken", "malformed", "too_many_entries", "oversized"}

// leaseRefusal says why an entry was not registered.
type leaseRefusal int

const (
	leaseRefusedDenied  leaseRefusal = iota // the policy or -allow-register does not allow it
	leaseRefusedInvalid                     // ttl, address or op out of range
	leaseRefusedBusy                        // the lease worker's queue was full
	leaseRefusedPerConn                     // the connection keeps MaxLeasesPerConn
	leaseRefusedTotal                       // the service holds MaxLeases
	numLeaseRefusals
)

// leaseRefusalNames are the cause labels of lars_dns_registrations_refused_total.
var leaseRefusalNames = [numLeaseRefusals]string{"denied", "invalid", "busy", "per_connection", "total"}

// leaseCounters are the lease manager's counts.
type leaseCounters struct {
	frames           [numLeaseFrames]atomic.Uint64
	refused          [numLeaseRefusals]atomic.Uint64
	replies          atomic.Uint64 // LeaseReply frames queued, asked or not
	registered       atomic.Uint64 // instances the store registered (added to the route)
	renewedInStore   atomic.Uint64 // renewals that went to the store (lease not held, or its end passed)
	renewedInMemory  atomic.Uint64 // renewals answered from memory, written later in a batch
	deregistered     atomic.Uint64 // LEASE_DROPs applied
	failed           atomic.Uint64 // entries answered LEASE_FAILED because the store failed
	applyCalls       atomic.Uint64 // store calls for Lease frames (the worker's ApplyLeaseBatches, a go of queued frames; the loop's ApplyLeases)
	applyRows        atomic.Uint64 // entries they carried
	renewCalls       atomic.Uint64 // store.Renew calls (flushes that wrote)
	renewStatements  atomic.Uint64 // statements they ran
	renewRows        atomic.Uint64 // leases they extended
	reregistered     atomic.Uint64 // leases a flush found gone and registered again
	removedTold      atomic.Uint64 // unasked LEASE_REMOVED results sent
	expireCalls      atomic.Uint64 // store.ExpireLeases calls
	expired          atomic.Uint64 // instances this service expired
	tombstonesPruned atomic.Uint64
	storeErrors      atomic.Uint64 // failed store calls
}

// LeaseStats are the service's registration figures at one moment.
type LeaseStats struct {
	Held            int                      // leases held in memory
	Frames          [numLeaseFrames]uint64   // Lease frames by what became of them (leaseFrameNames)
	Refused         [numLeaseRefusals]uint64 // entries refused, by cause (leaseRefusalNames)
	Replies         uint64                   // LeaseReply frames queued
	Registered      uint64                   // instances registered (added to the route)
	RenewedInStore  uint64                   // renewals that went to the store
	RenewedInMemory uint64                   // renewals answered from memory
	Deregistered    uint64                   // LEASE_DROPs applied
	Failed          uint64                   // entries answered LEASE_FAILED: the store failed
	ApplyCalls      uint64                   // store calls for Lease frames (one per go of the worker's queued frames)
	ApplyRows       uint64                   // entries they carried
	RenewCalls      uint64                   // batched renewals written (flushes)
	RenewStatements uint64                   // statements the flushes ran
	RenewRows       uint64                   // leases they extended
	Reregistered    uint64                   // leases found gone by a flush and registered again
	RemovedTold     uint64                   // unasked LEASE_REMOVED results sent
	ExpireCalls     uint64                   // expiry rounds
	Expired         uint64                   // instances this service expired
	TombstonesPrune uint64                   // tombstones deleted past store.TombstoneAge
	StoreErrors     uint64                   // failed store calls
}

// LeaseStats returns the registration figures (zero when the store takes none).
func (s *Service) LeaseStats() LeaseStats {
	m := s.leases
	if m == nil {
		return LeaseStats{}
	}
	c := &m.stats
	st := LeaseStats{
		Held: m.count(), Replies: c.replies.Load(), Registered: c.registered.Load(),
		RenewedInStore: c.renewedInStore.Load(), RenewedInMemory: c.renewedInMemory.Load(),
		Deregistered: c.deregistered.Load(), Failed: c.failed.Load(),
		ApplyCalls: c.applyCalls.Load(), ApplyRows: c.applyRows.Load(),
		RenewCalls: c.renewCalls.Load(), RenewStatements: c.renewStatements.Load(), RenewRows: c.renewRows.Load(),
		Reregistered: c.reregistered.Load(), RemovedTold: c.removedTold.Load(),
		ExpireCalls: c.expireCalls.Load(), Expired: c.expired.Load(),
		TombstonesPrune: c.tombstonesPruned.Load(), StoreErrors: c.storeErrors.Load(),
	}
	for i := range st.Frames {
		st.Frames[i] = c.frames[i].Load()
	}
	for i := range st.Refused {
		st.Refused[i] = c.refused[i].Load()
	}
	return st
}

// writeLeaseMetrics writes the registration metrics.
func (s *Service) writeLeaseMetrics(w io.Writer) {
	if s.leases == nil {
		return
	}
	st := s.LeaseStats()
	metrics.WriteGaugeUint64(w, "lars_dns_leases_held", uint64(st.Held))
	for i, n := range st.Frames {
		metrics.WriteCounterUint64(w, `lars_dns_lease_frames_total{result="`+leaseFrameNames[i]+`"}`, n)
	}
	for i, n := range st.Refused {
		metrics.WriteCounterUint64(w, `lars_dns_registrations_refused_total{cause="`+leaseRefusalNames[i]+`"}`, n)
	}
	metrics.WriteCounterUint64(w, "lars_dns_lease_replies_total", st.Replies)
	metrics.WriteCounterUint64(w, "lars_dns_registrations_total", st.Registered)
	metrics.WriteCounterUint64(w, `lars_dns_lease_renewals_total{where="memory"}`, st.RenewedInMemory)
	metrics.WriteCounterUint64(w, `lars_dns_lease_renewals_total{where="store"}`, st.RenewedInStore)
	metrics.WriteCounterUint64(w, "lars_dns_deregistrations_total", st.Deregistered)
	metrics.WriteCounterUint64(w, "lars_dns_lease_failed_total", st.Failed)
	metrics.WriteCounterUint64(w, `lars_dns_lease_db_statements_total{kind="register"}`, st.ApplyCalls)
	metrics.WriteCounterUint64(w, `lars_dns_lease_db_rows_total{kind="register"}`, st.ApplyRows)
	metrics.WriteCounterUint64(w, `lars_dns_lease_db_statements_total{kind="renew"}`, st.RenewStatements)
	metrics.WriteCounterUint64(w, `lars_dns_lease_db_rows_total{kind="renew"}`, st.RenewRows)
	metrics.WriteCounterUint64(w, `lars_dns_lease_db_statements_total{kind="expire"}`, st.ExpireCalls)
	metrics.WriteCounterUint64(w, "lars_dns_lease_flushes_total", st.RenewCalls)
	metrics.WriteCounterUint64(w, "lars_dns_leases_reregistered_total", st.Reregistered)
	metrics.WriteCounterUint64(w, "lars_dns_leases_removed_told_total", st.RemovedTold)
	metrics.WriteCounterUint64(w, "lars_dns_leases_expired_total", st.Expired)
	metrics.WriteCounterUint64(w, "lars_dns_lease_tombstones_pruned_total", st.TombstonesPrune)
	metrics.WriteCounterUint64(w, "lars_dns_lease_store_errors_total", st.StoreErrors)
	if d, ok := s.cfg.Store.(interface{ Deadlocks() uint64 }); ok {
		metrics.WriteCounterUint64(w, "lars_dns_lease_deadlock_retries_total", d.Deadlocks())
	}
}
