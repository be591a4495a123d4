package lb

import (
	"net/netip"

	"github.com/larsgo/lars/route"
)

// Status is the window's state of one key for the report service, ready to become a
// ReportStatusRequest (the agent adds caller and ts).
type Status struct {
	Modid, Cmdid int32
	// Hosts lists every host of the key; the slice belongs to the receiver.
	Hosts []HostStatus
}

// HostStatus is one host of a Status: its real counts in the current window and
// whether it is overloaded.
type HostStatus struct {
	Host      netip.AddrPort
	Succ, Err uint32
	Overload  bool
}

// Pulls returns the queue of keys the agent should ask the route service for. At
// most one pull per key is in flight, and a key is never in the queue twice: Sweep
// queues one again after pull_timeout only once the consumer has taken the previous
// copy. After a reconnection the consumer pulls every key itself (Reconnected). The queue is bounded (Config.PullQueue):
// a pull that does not fit is dropped, counted, and queued again by the next Sweep.
// The table is the only sender; the order of the queue is the order of sending.
func (t *Table) Pulls() <-chan route.Key { return t.pulls }

// Statuses returns the queue of key statuses for the report service, filled by
// Sweep. The queue is bounded (Config.StatusQueue): a status that does not fit is
// dropped and counted.
func (t *Table) Statuses() <-chan Status { return t.statuses }

// sendPull queues the key's pull without blocking, unless its previous copy is still
// in the queue (then the pull is in flight already and its timer restarts: it will
// be sent when the consumer takes that copy). The caller has set the key's pull state
// to pullInFlight; a full queue turns it into pullWanted. retry counts PullRetries.
func (t *Table) sendPull(ks *keyState, now int64, retry bool) {
	ks.pullAt.Store(now)
	modid, cmdid := route.UnpackKey(ks.key)
	t.pullMu.Lock()
	if t.queued(ks) {
		t.pullMu.Unlock()
		t.counters.pullsSkipped.Add(1)
		return
	}
	select {
	case t.pulls <- route.Key{Modid: modid, Cmdid: cmdid}:
		t.pullsSent++
		ks.pullSeq = t.pullsSent
		t.pullMu.Unlock()
		t.counters.pullsQueued.Add(1)
		if retry {
			t.counters.pullRetries.Add(1)
		}
	default:
		t.pullMu.Unlock()
		ks.pull.CompareAndSwap(pullInFlight, pullWanted)
		t.counters.pullsDropped.Add(1)
	}
}

// queued reports whether the key's last queued copy is still waiting in the Pulls
// queue. The queue is FIFO and fed only under pullMu, in the order of pullsSent, so
// its consumers have taken the first pullsSent-len(pulls) copies. A consumer taking
// copies meanwhile only makes the answer stale towards true: the copy was then taken
// by a consumer, which sends it. The caller holds pullMu.
func (t *Table) queued(ks *keyState) bool {
	return ks.pullSeq > t.pullsSent-uint64(len(t.pulls))
}

// sendStatus queues a status without blocking.
func (t *Table) sendStatus(st Status) {
	select {
	case t.statuses <- st:
		t.counters.statusEmitted.Add(1)
	default:
		t.counters.statusDropped.Add(1)
	}
}
