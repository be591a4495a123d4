package ctlplane

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
)

// regHelloFeatures are the features a registering agent's Hello announces.
const regHelloFeatures = uint32(larspb.Feature_FEATURE_UNSUBSCRIBE | larspb.Feature_FEATURE_REGISTER)

// errNoRegister says the service does not take registrations.
var errNoRegister = errors.New("does not take registrations")

// regCmd is what the run asks of an agent's goroutine.
type regCmd struct {
	kind int32 // cmdStorm, cmdReplace or cmdCleanup
	end  int32 // cmdReplace: endDropped or endExpired
	pick uint64
}

// Commands of a registering agent.
const (
	cmdStorm int32 = iota
	cmdReplace
	cmdCleanup
)

// regAgent is one simulated registering agent: a goroutine that writes its Lease
// frames (the storm, renewals every ttl/3, replacements, the cleanup) and a reader of
// the LeaseReplies.
type regAgent struct {
	run  *regRun
	id   int
	nc   net.Conn
	sr   *codec.StreamReader
	cmds chan regCmd

	// Owned by the agent's goroutine.
	kept     []int32 // its instances still renewed, in slot order
	nextSlot int     // its next unused slot
	buf      []byte
	lease    larspb.Lease
	entries  []larspb.LeaseEntry
	hosts    []larspb.HostInfo

	mu      sync.Mutex
	pending []pendingLease // written, not answered, in order
	closed  atomic.Bool    // its connection ended
	cleaned atomic.Bool    // its cleanup's frames are written
	reply   larspb.LeaseReply
}

// pendingLease is a Lease frame waiting for its LeaseReply.
type pendingLease struct {
	sentAt int64
	ids    []int32 // its entries' instances
	ops    []larspb.LeaseOp
}

// helloExchange writes the Hello and reads the HelloReply, which must take
// registrations.
func (a *regAgent) helloExchange(timeout time.Duration) error {
	frame, _ := codec.AppendFrame(nil, codec.MsgHello, &larspb.Hello{Features: regHelloFeatures})
	a.nc.SetDeadline(time.Now().Add(timeout))
	defer a.nc.SetDeadline(time.Time{})
	if _, err := a.nc.Write(frame); err != nil {
		return err
	}
	id, body, err := a.sr.Next()
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("%w: no HelloReply within %v", errNoRegister, timeout)
		}
		return err
	}
	if id != codec.MsgHelloReply {
		return fmt.Errorf("%w: it answered the Hello with a %s frame", errNoRegister, id)
	}
	var reply larspb.HelloReply
	if err := reply.UnmarshalVT(body); err != nil {
		return fmt.Errorf("bad HelloReply: %w", err)
	}
	if reply.Features&uint32(larspb.Feature_FEATURE_REGISTER) == 0 {
		return fmt.Errorf("%w: its HelloReply has no FEATURE_REGISTER (features %#x)", errNoRegister, reply.Features)
	}
	return nil
}

// loop runs the agent's commands and renewals until the run stops.
func (a *regAgent) loop(stop <-chan struct{}) {
	defer a.run.agentLoops.Done()
	var tick <-chan time.Time
	for {
		select {
		case <-stop:
			return
		case <-tick:
			a.renew()
		case c := <-a.cmds:
			switch c.kind {
			case cmdStorm:
				a.storm()
				t := time.NewTicker(a.run.cfg.TTL / 3)
				defer t.Stop()
				tick = t.C
			case cmdReplace:
				a.replace(c)
			case cmdCleanup:
				a.cleanup()
				tick = nil
			}
		}
	}
}

// storm registers the agent's first instances.
func (a *regAgent) storm() {
	r := a.run
	for range r.cfg.Instances {
		g := int32(a.id*r.ids.slots + a.nextSlot)
		a.nextSlot++
		in := &r.inst[g]
		in.phase = phaseStorm
		in.key = int32((a.id*r.cfg.Instances + int(g)%r.ids.slots) % int(r.keys.n))
		a.kept = append(a.kept, g)
	}
	a.write(a.kept, nil, larspb.LeaseOp_LEASE_NEW)
}

// renew writes a LEASE_KEEP of every instance the agent keeps; those the service
// refused are let go.
func (a *regAgent) renew() {
	a.forgetRefused()
	if len(a.kept) == 0 {
		return
	}
	a.write(a.kept, nil, larspb.LeaseOp_LEASE_KEEP)
	a.run.renewFrames.Add(uint64((len(a.kept) + maxLeaseEntries - 1) / maxLeaseEntries))
	a.run.renewEntries.Add(uint64(len(a.kept)))
}

// replace ends one of the agent's instances that every subscriber has seen (dropped
// or left to expire) and registers a new one of the same key in its next slot. With
// no such instance, or no slot left, the replacement is skipped and counted.
func (a *regAgent) replace(c regCmd) {
	r := a.run
	pos := -1
	for i := range a.kept {
		p := int((c.pick + uint64(i)) % uint64(len(a.kept)))
		in := &r.inst[a.kept[p]]
		if in.status.Load() == int32(larspb.LeaseStatus_LEASE_OK)+1 && int(in.up.Load()) >= r.subscribersReady {
			pos = p
			break
		}
	}
	if pos < 0 || a.nextSlot >= r.ids.slots {
		r.skipped.Add(1)
		return
	}
	old := a.kept[pos]
	a.kept = append(a.kept[:pos], a.kept[pos+1:]...)
	g := int32(a.id*r.ids.slots + a.nextSlot)
	a.nextSlot++
	in := &r.inst[g]
	in.phase = phaseSteady
	in.key = r.inst[old].key
	a.kept = append(a.kept, g)
	ended := &r.inst[old]
	if c.end == endExpired {
		ended.endAt.Store(ended.renewedAt.Load() + int64(r.cfg.TTL))
		ended.end.Store(endExpired)
		r.expired.Add(1)
		a.write([]int32{g}, nil, larspb.LeaseOp_LEASE_NEW)
		return
	}
	r.dropped.Add(1)
	a.write([]int32{g}, []int32{old}, larspb.LeaseOp_LEASE_NEW)
}

// forgetRefused takes the instances the service refused off the agent's.
func (a *regAgent) forgetRefused() {
	kept := a.kept[:0]
	for _, g := range a.kept {
		if !a.run.inst[g].refused.Load() {
			kept = append(kept, g)
		}
	}
	a.kept = kept
}

// cleanup drops every instance the agent keeps; they are not measured.
func (a *regAgent) cleanup() {
	r := a.run
	a.forgetRefused()
	for _, g := range a.kept {
		in := &r.inst[g]
		in.endAt.Store(r.now())
		in.end.Store(endCleanup)
	}
	a.write(nil, a.kept, larspb.LeaseOp_LEASE_KEEP)
	a.kept = a.kept[:0]
	a.cleaned.Store(true)
}

// write writes Lease frames of at most maxLeaseEntries entries: a LEASE_DROP of each
// of drops (written first, marked dropped now unless already ended), then op of each
// of ids; it notes when each instance was registered or renewed.
func (a *regAgent) write(ids, drops []int32, op larspb.LeaseOp) {
	r := a.run
	type entry struct {
		g  int32
		op larspb.LeaseOp
	}
	all := make([]entry, 0, len(ids)+len(drops))
	for _, g := range drops {
		all = append(all, entry{g, larspb.LeaseOp_LEASE_DROP})
	}
	for _, g := range ids {
		all = append(all, entry{g, op})
	}
	ttlMS := uint32(r.cfg.TTL / time.Millisecond)
	for len(all) > 0 {
		n := min(len(all), maxLeaseEntries)
		part := all[:n]
		all = all[n:]
		if cap(a.entries) < n {
			a.entries = make([]larspb.LeaseEntry, maxLeaseEntries)
			a.hosts = make([]larspb.HostInfo, maxLeaseEntries)
		}
		a.lease.Entries = a.lease.Entries[:0]
		p := pendingLease{ids: make([]int32, n), ops: make([]larspb.LeaseOp, n)}
		for i, e := range part {
			h := r.ids.host(int(e.g))
			k := r.keys.key(uint64(r.inst[e.g].key))
			a.hosts[i] = larspb.HostInfo{Ip: h.IP, Port: h.Port}
			a.entries[i] = larspb.LeaseEntry{Modid: k.Modid, Cmdid: k.Cmdid, Host: &a.hosts[i], TtlMs: ttlMS, Op: e.op}
			a.lease.Entries = append(a.lease.Entries, &a.entries[i])
			p.ids[i], p.ops[i] = e.g, e.op
		}
		var err error
		if a.buf, err = codec.AppendFrame(a.buf[:0], codec.MsgLease, &a.lease); err != nil {
			r.writeErrors.Add(1) // cannot happen: 1,024 entries fit a frame
			continue
		}
		now := max(r.now(), 1) // 0 is "not yet"
		for _, e := range part {
			in := &r.inst[e.g]
			switch e.op {
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
		p.sentAt = now
		a.mu.Lock()
		a.pending = append(a.pending, p)
		a.mu.Unlock()
		if a.closed.Load() {
			continue
		}
		a.nc.SetWriteDeadline(time.Now().Add(r.cfg.DialTimeout))
		if _, err := a.nc.Write(a.buf); err != nil {
			r.writeErrors.Add(1)
		}
		r.writeBlocked.Add(r.now() - now)
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
	// The oldest frame the reply answers: a route service that writes frames to its
	// store on several workers may answer a connection's frames out of order.
	a.mu.Lock()
	var p pendingLease
	ok := false
	for i := range a.pending {
		if a.matches(a.pending[i], res) {
			p, ok = a.pending[i], true
			a.pending = append(a.pending[:i], a.pending[i+1:]...)
			if i > 0 {
				r.outOfOrder.Add(1)
			}
			break
		}
	}
	a.mu.Unlock()
	if !ok {
		removed := len(res) > 0
		for _, x := range res {
			removed = removed && x.GetStatus() == larspb.LeaseStatus_LEASE_REMOVED
		}
		if removed {
			r.unaskedRemoved.Add(uint64(len(res)))
			for _, x := range res {
				if g, ok := r.ids.instance(x.GetHost().GetIp(), x.GetHost().GetPort()); ok {
					r.inst[g].refused.Store(true)
				}
			}
		} else {
			r.replyMismatch.Add(1)
		}
		return
	}
	r.replyLatency.Add(now - p.sentAt)
	for i, x := range res {
		st := x.GetStatus()
		r.countResult(p.ops[i], st)
		in := &r.inst[p.ids[i]]
		switch st {
		case larspb.LeaseStatus_LEASE_OK, larspb.LeaseStatus_LEASE_FAILED:
		default:
			in.refused.Store(true)
		}
		if p.ops[i] != larspb.LeaseOp_LEASE_NEW {
			continue
		}
		if in.status.CompareAndSwap(0, int32(st)+1) && in.phase == phaseStorm {
			r.stormAnswered.Add(1)
			storeMax(&r.stormAnsweredAt, now)
			if st == larspb.LeaseStatus_LEASE_OK {
				r.stormAccepted.Add(1)
				storeMax(&r.stormAcceptedAt, now)
			}
		}
	}
}

// matches reports whether res answers p: as many results, the first of the same
// instance and op.
func (a *regAgent) matches(p pendingLease, res []*larspb.LeaseResult) bool {
	if len(res) != len(p.ids) || len(res) == 0 || res[0] == nil || res[0].Host == nil {
		return false
	}
	h := a.run.ids.host(int(p.ids[0]))
	return res[0].Host.Ip == h.IP && res[0].Host.Port == h.Port && res[0].Op == p.ops[0]
}

// unanswered returns how many of the agent's Lease frames wait for their reply.
func (a *regAgent) unanswered() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending)
}
