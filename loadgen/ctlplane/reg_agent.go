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
