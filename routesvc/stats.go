package routesvc

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/larsgo/lars/codec"
)

// counters are the service's own counts; the table keeps its gauges.
type counters struct {
	pulls             atomic.Uint64 // GetRouteRequests served
	pullsDenied       atomic.Uint64 // of them, answered empty: the policy does not grant the key
	notAllowed        atomic.Uint64 // connections closed: no pull rule of the policy names their identity
	badFrames         atomic.Uint64 // connections closed for a bad frame
	slowClosed        atomic.Uint64 // connections closed because they could not keep up
	polls             atomic.Uint64
	signalReads       atomic.Uint64 // reads of the store's change signal
	signalFired       atomic.Uint64 // of them, those that found a commit
	gaps              atomic.Uint64 // polls whose change rows could not tell every change: a full load
	pollErrors        atomic.Uint64 // failed rounds against the store
	fullLoads         atomic.Uint64
	changeRows        atomic.Uint64 // RouteChange rows applied
	keysChanged       atomic.Uint64 // keys whose hosts changed (pushed)
	changeRowsDeleted atomic.Uint64
	hellos            atomic.Uint64 // Hellos answered
	unsubscribeFrames atomic.Uint64 // Unsubscribes taken
	unsubscribed      atomic.Uint64 // subscriptions an Unsubscribe removed
	unsubscribeMisses atomic.Uint64 // keys an Unsubscribe named that the connection did not hold
	// droppedFrames counts the well-formed frames the service does not take, by cause.
	droppedFrames [numDropCauses]atomic.Uint64

	fullLoadSeconds   *metrics.Histogram
	changeLoadSeconds *metrics.Histogram
	fanoutSeconds     *metrics.Histogram
}

// dropCause says why a well-formed frame was dropped.
type dropCause int

const (
	// dropUnknownMsgid: an id the protocol does not define (a newer peer's extension).
	dropUnknownMsgid dropCause = iota
	// dropUnexpectedMsgid: an id the protocol defines but a route service does not take
	// (a get_host over TCP, a HelloReply).
	dropUnexpectedMsgid
	numDropCauses
)

// dropCauseNames are the cause labels of lars_dns_frames_dropped_total.
var dropCauseNames = [numDropCauses]string{"unknown_msgid", "unexpected_msgid"}

// dropFrame counts a dropped frame of id by its cause.
func (c *counters) dropFrame(id codec.MsgID) {
	cause := dropUnexpectedMsgid
	if id.String() == "unknown" {
		cause = dropUnknownMsgid
	}
	c.droppedFrames[cause].Add(1)
}

// Stats are a service's figures at one moment, each read atomically.
type Stats struct {
	Connections   int64  // open agent connections
	Accepted      uint64 // connections accepted since start
	Refused       uint64 // connections closed at once because MaxConns were open
	IdleClosed    uint64 // connections closed because they sent no valid frame for IdleTimeout
	Evicted       uint64 // silent connections closed, at MaxConns, to make room for a new one
	Subscriptions int64  // (connection, key) pairs
	// UnknownKeySubscriptions are the pairs whose key has no hosts.
	UnknownKeySubscriptions int64
	// SubscriptionsRefused are the pulls answered without recording a subscription,
	// by cause (subRefusalNames): the connection's or the service's bound was reached.
	SubscriptionsRefused [numSubRefusals]uint64
	Keys                 int64  // keys with at least one host
	Routes               int64  // hosts over all keys: the RouteData rows served
	Pulls                uint64 // GetRouteRequests answered
	// PullsDenied are the pulls answered as a service with no hosts, not subscribed,
	// because the Config.Policy does not let the identity pull the service.
	PullsDenied uint64
	// NotAllowed counts the connections closed because no pull rule of the
	// Config.Policy names their identity.
	NotAllowed uint64
	Pushes     uint64 // frames queued to subscribers because their key changed
	BadFrames  uint64 // connections closed for a bad frame
	// DroppedFrames are the well-formed frames of ids the service does not take, by
	// cause (dropCauseNames): dropped, the connection kept.
	DroppedFrames     [numDropCauses]uint64
	Hellos            uint64 // Hellos answered
	UnsubscribeFrames uint64 // Unsubscribes taken
	Unsubscribed      uint64 // subscriptions removed by an Unsubscribe
	UnsubscribeMisses uint64 // keys an Unsubscribe named that its connection did not hold
	SlowClosed        uint64 // connections closed because they could not keep up
	Polls             uint64 // polls of the store's stamp
	SignalReads       uint64 // reads of the store's change signal (SQLite's change counter)
	SignalFired       uint64 // of them, those that found a commit and so led to a poll
	// Gaps are the polls whose change rows could not tell every change (rows deleted
	// before they were read, a version beyond them, a version moved with no new row),
	// answered by a full load.
	Gaps              uint64
	PollErrors        uint64 // failed rounds against the store
	FullLoads         uint64 // reads of every route (first load and reloads)
	ChangeRows        uint64 // RouteChange rows applied
	KeysChanged       uint64 // keys whose hosts changed
	ChangeRowsDeleted uint64 // RouteChange rows deleted past the retention
	TooLarge          uint64 // routes too large for one frame, answered empty
	Version           uint64 // the store's version as of the last poll
	LastChange        uint64 // the newest RouteChange id applied
}

// health is what /healthz tells: whether the first load is done and when the store
// last answered.
type health struct {
	mu       sync.Mutex
	loaded   bool
	lastSync time.Time // the last successful round
	downAt   time.Time // the first failed round since then; zero while the store answers
	lastErr  string
}

func (h *health) synced(now time.Time) {
	h.mu.Lock()
	h.loaded, h.lastSync, h.downAt, h.lastErr = true, now, time.Time{}, ""
	h.mu.Unlock()
}

func (h *health) failed(now time.Time, err error) {
	h.mu.Lock()
	if h.downAt.IsZero() {
		h.downAt = now
	}
	h.lastErr = err.Error()
	h.mu.Unlock()
}

// Health is the service's state for /healthz.
type Health struct {
	Loaded      bool          // the first complete load is done: the service accepts agents
	StoreUp     bool          // the last round against the store succeeded
	LastSync    time.Time     // when the store last answered a round
	DownSince   time.Time     // the first failed round since then (zero while StoreUp)
	LastError   string        // the last round's error (empty while StoreUp)
	SnapshotAge time.Duration // time since LastSync: how stale the served routes may be
}
