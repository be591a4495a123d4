package reportsvc

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// counters are the service's counts, updated atomically.
type counters struct {
	badFrames atomic.Uint64 // connections closed for a bad frame
	frames    atomic.Uint64 // ReportStatusRequests read
	results   atomic.Uint64 // HostCallResults read
	coalesced atomic.Uint64 // results that replaced a queued row

	rowsWritten atomic.Uint64
	batches     atomic.Uint64 // statements that succeeded
	dbErrors    atomic.Uint64 // statements that failed

	droppedQueueFull atomic.Uint64 // rows dropped from the full queue for a new one (the next two)
	droppedOwn       atomic.Uint64 // of them, rows of the pushing connection, over its share
	droppedHeaviest  atomic.Uint64 // of them, rows of the connection holding the most
	droppedDBError   atomic.Uint64 // rows of failed batches that could not be put back
	droppedShutdown  atomic.Uint64 // rows still queued when the flush at shutdown ended

	droppedUnknownKey atomic.Uint64 // rows of reports for keys the route store does not hold
	droppedPolicy     atomic.Uint64 // rows of services the policy does not let the identity report
	droppedBadHost    atomic.Uint64 // rows whose port is outside 0..65535: no host of a route
	notAllowed        atomic.Uint64 // connections closed: their identity may not report
	futureClamped     atomic.Uint64 // reports whose ts was in the future, stamped with the time read
	keyLoads          atomic.Uint64 // reads of the route keys (the stamp had changed)
	keyLoadErrors     atomic.Uint64 // failed reads of the stamp or the keys

	statusPruned  atomic.Uint64 // ServerCallStatus rows the retention deleted
	historyPruned atomic.Uint64 // RouteHistory rows the retention deleted
	pruneSweeps   atomic.Uint64 // retention sweeps run
	pruneErrors   atomic.Uint64 // retention statements that failed

	batchSeconds *metrics.Histogram // time of each successful statement
	pruneSeconds *metrics.Histogram // time of each retention sweep
}

// Stats are a service's figures at one moment, each read atomically.
type Stats struct {
	Connections      int64  // open agent connections
	Accepted         uint64 // connections accepted since start
	Refused          uint64 // connections closed at once because MaxConns were open
	IdleClosed       uint64 // connections closed after IdleTimeout without a valid frame
	Evicted          uint64 // silent connections closed at MaxConns to make room for a new one
	BadFrames        uint64 // connections closed for a bad frame
	Frames           uint64 // ReportStatusRequests read
	Results          uint64 // HostCallResults read
	Coalesced        uint64 // results that replaced a queued, not yet written row
	RowsWritten      uint64 // rows written to the store
	Batches          uint64 // upsert statements that succeeded
	DBErrors         uint64 // upsert statements that failed
	QueueRows        int64  // rows queued now
	QueueCapacity    int    // the most rows queued at once (Config.QueueSize)
	DroppedQueueFull uint64 // rows dropped because the queue was full: DroppedOwn + DroppedHeaviest
	DroppedDBError   uint64 // rows dropped after their batch failed and did not fit back
	DroppedShutdown  uint64 // rows still queued when the flush at shutdown ended

	DroppedUnknownKey uint64 // rows of reports for keys the route store does not hold
	// DroppedBadHost counts the rows whose port is outside 0..65535, which no host of a
	// route has.
	DroppedBadHost uint64
	// DroppedPolicy counts the rows of services the Config.Policy does not let the
	// connection's identity report.
	DroppedPolicy uint64
	// NotAllowed counts the connections closed, with mutual TLS, because their verified
	// identity's role is not one of Config.ReportRoles, or no report rule of the
	// Config.Policy names it.
	NotAllowed uint64
	// FutureClamped counts the reports whose ts was later than the time they were read:
	// their rows were stamped with that time instead.
	FutureClamped uint64
	// DroppedOwn are rows the full queue dropped for a newer row of the same connection,
	// which held at least an equal share of the queue: a flooding connection's own.
	DroppedOwn uint64
	// DroppedHeaviest are rows the full queue dropped, those of the connection holding
	// the most, for a row of a connection holding less than an equal share.
	DroppedHeaviest uint64
	KnownKeys       int    // keys in the known set
	KnownKeysLoaded bool   // the known set was read at least once (before, every key is kept)
	KeyLoads        uint64 // reads of the route keys, after the stamp changed
	KeyLoadErrors   uint64 // failed reads of the route stamp or keys

	StatusPruned  uint64 // ServerCallStatus rows the retention deleted
	HistoryPruned uint64 // RouteHistory rows the retention deleted
	PruneSweeps   uint64 // retention sweeps run
	PruneErrors   uint64 // retention statements that failed
}

// Dropped returns the rows dropped for any reason.
func (s Stats) Dropped() uint64 {
	return s.DroppedQueueFull + s.DroppedDBError + s.DroppedShutdown + s.DroppedUnknownKey + s.DroppedPolicy + s.DroppedBadHost
}

// health is what /healthz tells: whether the store takes writes, and since when not.
type health struct {
	mu        sync.Mutex
	lastWrite time.Time // the last successful statement
	downAt    time.Time // the first failure since then; zero while writes succeed
	lastErr   string
}

// succeeded records a successful write and reports whether the store was down.
func (h *health) succeeded(now time.Time) (wasDown bool) {
	h.mu.Lock()
	wasDown = !h.downAt.IsZero()
	h.lastWrite, h.downAt, h.lastErr = now, time.Time{}, ""
	h.mu.Unlock()
	return wasDown
}

// failed records a failed write and reports whether it is the first since the last
// success.
func (h *health) failed(now time.Time, err error) (first bool) {
	h.mu.Lock()
	first = h.downAt.IsZero()
	if first {
		h.downAt = now
	}
	h.lastErr = err.Error()
	h.mu.Unlock()
	return first
}

// Health is the service's state for /healthz.
type Health struct {
	StoreUp   bool      // the last write succeeded (or none was tried)
	LastWrite time.Time // when a write last succeeded; zero before the first
	DownSince time.Time // the first failed write since then (zero while StoreUp)
	LastError string    // the last failed write's error (empty while StoreUp)
}
