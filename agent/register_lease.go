package agent

import (
	"time"

	"github.com/larsgo/lars/agent/upstream"
	pb "github.com/larsgo/lars/codec/larspb"
)

// The registry is the route client's upstream.Registrations.
var _ upstream.Registrations = (*registry)(nil)

// LeaseLink is told what each route-service connection is. One that takes
// registrations gets every registration kept again at once (LEASE_KEEP, or NEW for
// those not answered yet), but those an operator removed or the service found
// invalid; one that does not makes every registration REG_REFUSED, counted and
// logged (throttled). While no connection is known the states stay as they are.
func (r *registry) LeaseLink(addr string, state upstream.LinkState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.link = state
	if addr != "" {
		r.addr = addr
	}
	switch state {
	case upstream.LinkRegisters:
		for _, e := range r.entries {
			e.renew = time.Time{}
			if e.state == pb.RegisterState_REG_REFUSED {
				e.stopped, e.state, e.message = false, pb.RegisterState_REG_PENDING, ""
			}
		}
		r.wake()
	case upstream.LinkNoRegister:
		r.drops = nil // it holds none of them
		msg := r.unsupported()
		for _, e := range r.entries {
			r.refuse(e, refusedUnsupported, msg)
		}
		if len(r.entries) > 0 {
			if ok, held := r.refuseLog.Allow(time.Now()); ok {
				r.log.Warn("registrations refused: the route service does not take them (Lars's lars_dns, or one without FEATURE_REGISTER); the agent serves everything else",
					"route_service", addr, "registrations", len(r.entries), "refusals_since_last_log", held)
			}
		}
	}
}

// LeaseResults applies the route service's answers: LEASE_OK -> REG_ACTIVE,
// LEASE_STATIC -> REG_STATIC, LEASE_REMOVED -> REG_REMOVED (no longer renewed),
// LEASE_DENIED -> REG_REFUSED, LEASE_FAILED -> REG_PENDING (tried again at the next
// renewal), LEASE_INVALID -> REG_INVALID. Answers to DROPs, and to leases withdrawn
// since they were sent, change nothing; an unasked LEASE_REMOVED applies whatever
// its op.
func (r *registry) LeaseResults(results []upstream.LeaseResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range results {
		e := r.entries[regID{res.Key, res.Host}]
		if e == nil || (res.Op == pb.LeaseOp_LEASE_DROP && res.Status != pb.LeaseStatus_LEASE_REMOVED) {
			continue
		}
		if !e.leased && res.Status != pb.LeaseStatus_LEASE_REMOVED {
			continue // withdrawn (check failing) since: its DROP is out
		}
		msg := truncateMessage(res.Message)
		switch res.Status {
		case pb.LeaseStatus_LEASE_OK:
			e.state, e.message = pb.RegisterState_REG_ACTIVE, ""
		case pb.LeaseStatus_LEASE_STATIC:
			e.state, e.message = pb.RegisterState_REG_STATIC, ""
		case pb.LeaseStatus_LEASE_REMOVED:
			e.state, e.message, e.stopped, e.leased = pb.RegisterState_REG_REMOVED, msg, true, false
		case pb.LeaseStatus_LEASE_DENIED:
			r.refuse(e, refusedDenied, msg)
		case pb.LeaseStatus_LEASE_INVALID:
			e.state, e.message, e.stopped, e.leased = pb.RegisterState_REG_INVALID, msg, true, false
		default: // LEASE_FAILED, or a status this agent does not know
			e.state, e.message = pb.RegisterState_REG_PENDING, msg
			continue // a NEW not taken stays a NEW
		}
		if res.Op == pb.LeaseOp_LEASE_NEW {
			e.wantNew = false
		}
	}
}

// maxMessage bounds a message the agent passes on in a RegisterReply, so that the
// answer fits its datagram slot.
const maxMessage = 512

// truncateMessage cuts s to at most maxMessage bytes, on a rune boundary.
func truncateMessage(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	n := maxMessage
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
