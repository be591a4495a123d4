package lb

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
	Host      Host
	Succ, Err uint32
	Overload  bool
}

// Pulls returns the queue of keys the agent should ask the route service for. At
// most one pull per key is in flight; Sweep queues one again after pull_timeout,
// Reconnected after a reconnection. The queue is bounded (Config.PullQueue): a pull
// that does not fit is dropped, counted, and queued again by the next Sweep.
func (t *Table) Pulls() <-chan Key { return t.pulls }

// Statuses returns the queue of key statuses for the report service, filled by
// Sweep. The queue is bounded (Config.StatusQueue): a status that does not fit is
// dropped and counted.
func (t *Table) Statuses() <-chan Status { return t.statuses }

// sendPull queues the key's pull without blocking. The caller has set the key's pull
// state to pullInFlight; a full queue turns it into pullWanted.
func (t *Table) sendPull(ks *keyState, now int64) {
	ks.pullAt.Store(now)
	modid, cmdid := UnpackKey(ks.key)
	select {
	case t.pulls <- Key{modid, cmdid}:
		t.counters.pullsQueued.Add(1)
	default:
		ks.pull.CompareAndSwap(pullInFlight, pullWanted)
		t.counters.pullsDropped.Add(1)
	}
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
