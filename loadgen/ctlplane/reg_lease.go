package ctlplane

import (
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
)

// leaseEntry is one instance and what a Lease frame asks of it.
type leaseEntry struct {
	g  int32
	op larspb.LeaseOp
}

// write writes Lease frames of at most maxLeaseEntries entries: a LEASE_DROP of each
// of drops (written first, marked dropped now unless already ended), then op of each
// of ids; it notes when each instance was registered or renewed.
func (a *regAgent) write(ids, drops []int32, op larspb.LeaseOp) {
	all := make([]leaseEntry, 0, len(ids)+len(drops))
	for _, g := range drops {
		all = append(all, leaseEntry{g, larspb.LeaseOp_LEASE_DROP})
	}
	for _, g := range ids {
		all = append(all, leaseEntry{g, op})
	}
	for len(all) > 0 {
		n := min(len(all), maxLeaseEntries)
		a.writeFrame(all[:n])
		all = all[n:]
	}
}

// writeFrame writes one Lease frame of part and records it as waiting for its reply.
func (a *regAgent) writeFrame(part []leaseEntry) {
	r := a.run
	p, err := a.encode(part)
	if err != nil {
		r.writeErrors.Add(1) // cannot happen: 1,024 entries fit a frame
		return
	}
	now := max(r.now(), 1) // 0 is "not yet"
	for _, e := range part {
		r.inst[e.g].written(r, e.op, now)
	}
	p.sentAt = now
	a.mu.Lock()
	a.pending = append(a.pending, p)
	a.mu.Unlock()
	if a.closed.Load() {
		return
	}
	a.nc.SetWriteDeadline(time.Now().Add(r.cfg.DialTimeout))
	if _, err := a.nc.Write(a.buf); err != nil {
		r.writeErrors.Add(1)
	}
	r.writeBlocked.Add(r.now() - now)
}

// encode encodes the Lease frame of part into a.buf and returns its record.
func (a *regAgent) encode(part []leaseEntry) (pendingLease, error) {
	r := a.run
	if cap(a.entries) < len(part) {
		a.entries = make([]larspb.LeaseEntry, maxLeaseEntries)
		a.hosts = make([]larspb.HostInfo, maxLeaseEntries)
	}
	ttlMS := uint32(r.cfg.TTL / time.Millisecond)
	a.lease.Entries = a.lease.Entries[:0]
	p := pendingLease{ids: make([]int32, len(part)), ops: make([]larspb.LeaseOp, len(part))}
	for i, e := range part {
		ip, port, _ := r.ids.host(int(e.g)).Wire() // the run's instances are IPv4
		k := r.keys.key(uint64(r.inst[e.g].key))
		a.hosts[i] = larspb.HostInfo{Ip: ip, Port: port}
		a.entries[i] = larspb.LeaseEntry{Modid: k.Modid, Cmdid: k.Cmdid, Host: &a.hosts[i], TtlMs: ttlMS, Op: e.op}
		a.lease.Entries = append(a.lease.Entries, &a.entries[i])
		p.ids[i], p.ops[i] = e.g, e.op
	}
	var err error
	a.buf, err = codec.AppendFrame(a.buf[:0], codec.MsgLease, &a.lease)
	return p, err
}

// written notes that op of the instance was written at now.
func (in *regInstance) written(r *regRun, op larspb.LeaseOp, now int64) {
	switch op {
	case larspb.LeaseOp_LEASE_DROP:
		if in.end.Load() == endKept {
			in.endAt.Store(now)
			in.end.Store(endDropped)
		}
	case larspb.LeaseOp_LEASE_NEW:
		in.newAt.Store(now)
		in.renewedAt.Store(now)
		r.newSent.Add(1)
	default:
		in.renewedAt.Store(now)
	}
}

// readLoop reads the agent's LeaseReplies until its connection ends.
func (a *regAgent) readLoop() {
	r := a.run
	defer r.readers.Done()
	for {
		id, body, err := a.sr.Next()
		if err != nil {
			a.closed.Store(true)
			a.nc.Close()
			if !r.stopping.Load() {
				r.agentsClosed.Add(1)
			}
			return
		}
		now := r.now()
		switch id {
		case codec.MsgLeaseReply:
			a.takeReply(body, now)
		case codec.MsgHelloReply:
		default:
			r.malformed.Add(1)
		}
	}
}

// takeReply matches a LeaseReply to the oldest Lease frame it answers, counts its
// results and notes each new registration's status. A reply that matches no frame and
// says only LEASE_REMOVED is the service's own notice of an operator's removal.
func (a *regAgent) takeReply(body []byte, now int64) {
	r := a.run
	a.reply.Reset()
	if a.reply.UnmarshalVT(body) != nil {
		r.malformed.Add(1)
		return
	}
	res := a.reply.Results
	p, ok := a.answered(res)
	if !ok {
		r.unasked(res)
		return
	}
	r.replyLatency.Add(now - p.sentAt)
	for i, x := range res {
		r.result(p.ids[i], p.ops[i], x.GetStatus(), now)
	}
}

// answered takes off the waiting frames the oldest one res answers: a route service
// may answer a connection's frames out of order (counted).
func (a *regAgent) answered(res []*larspb.LeaseResult) (pendingLease, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.pending {
		if a.matches(a.pending[i], res) {
			p := a.pending[i]
			a.pending = append(a.pending[:i], a.pending[i+1:]...)
			if i > 0 {
				a.run.outOfOrder.Add(1)
			}
			return p, true
		}
	}
	return pendingLease{}, false
}

// unasked counts a reply that answers no frame: the service's notice that an operator
// removed instances (all LEASE_REMOVED: they are no longer renewed), or a mismatch.
func (r *regRun) unasked(res []*larspb.LeaseResult) {
	removed := len(res) > 0
	for _, x := range res {
		removed = removed && x.GetStatus() == larspb.LeaseStatus_LEASE_REMOVED
	}
	if !removed {
		r.replyMismatch.Add(1)
		return
	}
	r.unaskedRemoved.Add(uint64(len(res)))
	for _, x := range res {
		if g, ok := r.ids.instance(x.GetHost().GetIp(), x.GetHost().GetPort()); ok {
			r.inst[g].refused.Store(true)
		}
	}
}

// result counts one LeaseResult of instance g's op, received at now: an instance
// refused is no longer renewed; a LEASE_NEW's first answer is its status.
func (r *regRun) result(g int32, op larspb.LeaseOp, st larspb.LeaseStatus, now int64) {
	r.countResult(op, st)
	in := &r.inst[g]
	if st != larspb.LeaseStatus_LEASE_OK && st != larspb.LeaseStatus_LEASE_FAILED {
		in.refused.Store(true)
	}
	if op != larspb.LeaseOp_LEASE_NEW || !in.status.CompareAndSwap(0, int32(st)+1) || in.phase != phaseStorm {
		return
	}
	r.stormAnswered.Add(1)
	storeMax(&r.stormAnsweredAt, now)
	if st == larspb.LeaseStatus_LEASE_OK {
		r.stormAccepted.Add(1)
		storeMax(&r.stormAcceptedAt, now)
	}
}

// matches reports whether res answers p: as many results, the first of the same
// instance and op.
func (a *regAgent) matches(p pendingLease, res []*larspb.LeaseResult) bool {
	if len(res) != len(p.ids) || len(res) == 0 || res[0] == nil || res[0].Host == nil {
		return false
	}
	ip, port, _ := a.run.ids.host(int(p.ids[0])).Wire()
	return res[0].Host.Ip == ip && res[0].Host.Port == port && res[0].Op == p.ops[0]
}

// unanswered returns how many of the agent's Lease frames wait for their reply.
func (a *regAgent) unanswered() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending)
}
