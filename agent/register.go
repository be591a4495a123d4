package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/agent/upstream"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/logthrottle"
	"github.com/larsgo/lars/route"
)

// regTick is how often the registration loop looks for work when nothing wakes it:
// expiries, checks due, renewals due. It is the resolution of those times.
const regTick = 50 * time.Millisecond

// regSource says who registered an instance.
type regSource uint8

const (
	srcClient regSource = iota // a process, through RegisterRequests: expires without keepalives
	srcINI                     // a [register] line of the agent's INI: never expires
)

func (s regSource) String() string {
	if s == srcINI {
		return "ini"
	}
	return "client"
}

// checkState is where a registration's health check stands.
type checkState uint8

const (
	checkUnknown checkState = iota // not run yet: the instance is not registered until it passes
	checkPassing
	checkFailing
)

func (c checkState) String() string {
	switch c {
	case checkPassing:
		return "passing"
	case checkFailing:
		return "failing"
	}
	return "unknown"
}

// regID identifies a registration: the key and the instance.
type regID struct {
	key  route.Key
	host netip.AddrPort
}

// regEntry is one registration of the table. Guarded by registry.mu.
type regEntry struct {
	Registration
	source   regSource
	lastKeep time.Time // the owner's last NEW or KEEP, on the registry's clock

	// With the route service.
	state   pb.RegisterState // PENDING, ACTIVE, STATIC, REFUSED, REMOVED or INVALID
	message string
	leased  bool      // a NEW or KEEP went out and no DROP since: the service may hold it
	sent    time.Time // when the last NEW or KEEP went out
	renew   time.Time // when the next KEEP is due; zero: at the next step
	wantNew bool      // the next lease is a NEW (the owner registered anew), until answered
	stopped bool      // not sent until the owner registers anew or a new connection: REMOVED, REFUSED, INVALID

	// Health check.
	check     checkState
	checking  bool      // a check is running
	nextCheck time.Time // when the next check is due
	checkErr  string    // why the last check failed
	checkGen  uint64    // which check spec a running check belongs to
}

// shown is the state a RegisterReply and /registrations give.
func (e *regEntry) shown() pb.RegisterState {
	if e.check == checkFailing {
		return pb.RegisterState_REG_CHECK_FAILING
	}
	return e.state
}

// wanted reports whether the instance should be in the route: no check, or a
// passing one.
func (e *regEntry) wanted() bool { return e.Check == "" || e.check == checkPassing }

// leaseSender is what the registry needs of the route client.
type leaseSender interface {
	Lease(entries []upstream.LeaseEntry) bool
}

// Refusal causes, the label of lars_agent_registrations_refused_total.
const (
	refusedUnsupported   = iota // the route service does not take registrations
	refusedTooMany              // the table is full (Config.MaxRegistrations)
	refusedStatic               // the agent serves static routes: no route service
	refusedDenied               // the route service said LEASE_DENIED
	refusedRemoteAddress        // a source off loopback registering another address than its own
	numRefusedCauses
)

var refusedLabels = [numRefusedCauses]string{"unsupported", "too_many", "static", "denied", "remote_address"}

// registry is the agent's registration table and its loop (issue 31): it answers
// RegisterRequests, expires registrations their owners stopped keeping alive, runs
// health checks, and keeps the route service's leases through the route client.
// Safe for concurrent use.
type registry struct {
	mu      sync.Mutex
	entries map[regID]*regEntry
	drops   []upstream.LeaseEntry // LEASE_DROPs of registrations gone, to send
	max     int
	clock   func() time.Time
	log     *slog.Logger
	routes  leaseSender // nil: static routes, nothing to register with
	link    upstream.LinkState
	addr    string // the route service connected to
	gen     uint64 // check generations
	kick    chan struct{}
	checks  *checker

	refuseLog logthrottle.Throttle // refusals by a route service that does not take registrations
	checkLog  logthrottle.Throttle // checks changing state

	requests [3]atomic.Uint64 // by pb.RegisterOp
	invalid  atomic.Uint64
	refused  [numRefusedCauses]atomic.Uint64
	expired  atomic.Uint64
}

// newRegistry returns an empty table of at most max registrations; routes nil means
// the agent has no route service. clock nil is time.Now.
func newRegistry(max int, clock func() time.Time, routes leaseSender, log *slog.Logger) *registry {
	if clock == nil {
		clock = time.Now
	}
	return &registry{
		entries: map[regID]*regEntry{}, max: max, clock: clock, log: log, routes: routes,
		kick: make(chan struct{}, 1), checks: newChecker(), refuseLog: logthrottle.Throttle{Every: 10 * time.Second}, checkLog: logthrottle.Throttle{Every: time.Second},
	}
}

// wake makes the loop step now.
func (r *registry) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// run steps the table every regTick and whenever something changed, until ctx is
// done; then it waits for the checks running.
func (r *registry) run(ctx context.Context) {
	t := time.NewTicker(regTick)
	defer t.Stop()
	defer r.checks.wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.kick:
		}
		r.step(ctx, r.clock())
	}
}

// answer is what a RegisterReply says.
type answer struct {
	state   pb.RegisterState
	message string
	ttl     time.Duration
}

// request applies one RegisterRequest, at now, and returns the answer.
func (r *registry) request(op pb.RegisterOp, reg Registration, now time.Time) answer {
	if op >= 0 && int(op) < len(r.requests) {
		r.requests[op].Add(1)
	}
	id := regID{reg.Key, reg.Host}
	switch op {
	case pb.RegisterOp_REGISTER_DROP:
		return r.deregister(id)
	case pb.RegisterOp_REGISTER_KEEP, pb.RegisterOp_REGISTER_NEW:
	default:
		r.invalid.Add(1)
		return answer{state: pb.RegisterState_REG_INVALID, message: fmt.Sprintf("unknown op %d", op)}
	}
	reg, err := reg.normalize()
	if err != nil {
		r.invalid.Add(1)
		return answer{state: pb.RegisterState_REG_INVALID, message: err.Error()}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[id]
	if e == nil {
		if len(r.entries) >= r.max {
			r.refused[refusedTooMany].Add(1)
			return answer{state: pb.RegisterState_REG_REFUSED, ttl: reg.TTL,
				message: fmt.Sprintf("too many registrations: this agent keeps at most %d", r.max)}
		}
		e = r.add(reg, srcClient, now)
	} else {
		r.update(e, reg, now)
	}
	e.lastKeep = now
	if op == pb.RegisterOp_REGISTER_NEW {
		r.registerAnew(e)
	}
	return answer{state: e.shown(), message: e.message, ttl: e.TTL}
}

// add creates the registration reg; r.mu is held.
func (r *registry) add(reg Registration, src regSource, now time.Time) *regEntry {
	r.gen++
	e := &regEntry{Registration: reg, source: src, lastKeep: now, nextCheck: now, checkGen: r.gen}
	r.entries[regID{reg.Key, reg.Host}] = e
	switch {
	case r.routes == nil:
		r.refuse(e, refusedStatic, "the agent serves static routes (a routes file): there is no route service to register with")
	case r.link == upstream.LinkNoRegister:
		r.refuse(e, refusedUnsupported, r.unsupported())
	}
	r.wake()
	return e
}

// update applies a registration's new ttl, check or interval; r.mu is held. A new
// check starts over: the instance is withdrawn until it passes. A keepalive that
// changes nothing (the usual one) does not wake the loop.
func (r *registry) update(e *regEntry, reg Registration, now time.Time) {
	changed := false
	if reg.Check != e.Check {
		r.gen++
		e.check, e.checking, e.checkErr, e.checkGen, e.nextCheck = checkUnknown, false, "", r.gen, now
		changed = true
	}
	if reg.CheckInterval != e.CheckInterval {
		e.nextCheck = minTime(e.nextCheck, now.Add(reg.CheckInterval))
		changed = true
	}
	if reg.TTL != e.TTL {
		e.renew = time.Time{}
		changed = true
	}
	e.TTL, e.Check, e.CheckInterval = reg.TTL, reg.Check, reg.CheckInterval
	if changed {
		r.wake()
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// registerAnew is a REGISTER_NEW (or an INI line added): the next lease is a NEW,
// sent at once, which also undoes an operator's removal; r.mu is held.
func (r *registry) registerAnew(e *regEntry) {
	e.wantNew, e.renew = true, time.Time{}
	if e.stopped && r.routes != nil && r.link != upstream.LinkNoRegister {
		e.stopped, e.state, e.message = false, pb.RegisterState_REG_PENDING, ""
	}
	r.wake()
}

// deregister ends a client's registration: a LEASE_DROP goes out if the service may
// hold it. An INI registration is not ended by a request: its state is answered.
func (r *registry) deregister(id regID) answer {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[id]
	if e == nil {
		return answer{state: pb.RegisterState_REG_GONE}
	}
	if e.source == srcINI {
		return answer{state: e.shown(), ttl: e.TTL,
			message: "registered by the agent's configuration ([register]): remove its line and reload the agent"}
	}
	r.remove(id, e)
	return answer{state: pb.RegisterState_REG_GONE, ttl: e.TTL}
}

// remove deletes a registration, queueing its LEASE_DROP if the service may hold it;
// r.mu is held.
func (r *registry) remove(id regID, e *regEntry) {
	delete(r.entries, id)
	if e.leased && len(r.drops) < r.max { // beyond, the lease ends with its ttl
		r.drops = append(r.drops, upstream.LeaseEntry{Key: id.key, Host: id.host, TTL: e.TTL, Op: pb.LeaseOp_LEASE_DROP})
		r.wake()
	}
}

// refuse marks e refused for cause, counted; r.mu is held.
func (r *registry) refuse(e *regEntry, cause int, msg string) {
	e.state, e.message, e.stopped, e.leased = pb.RegisterState_REG_REFUSED, msg, true, false
	r.refused[cause].Add(1)
}

// unsupported is the message of a registration refused by a route service that does
// not take registrations.
func (r *registry) unsupported() string {
	return fmt.Sprintf("the route service %s does not take registrations", r.addr)
}

// step does the table's work due at now: expiries, checks due, leases due.
func (r *registry) step(ctx context.Context, now time.Time) {
	var due []checkJob
	r.mu.Lock()
	link := r.link
	var send []upstream.LeaseEntry
	for id, e := range r.entries {
		if e.source == srcClient && now.Sub(e.lastKeep) > e.TTL {
			r.expired.Add(1)
			r.remove(id, e)
			continue
		}
		if e.Check != "" && !e.checking && !now.Before(e.nextCheck) {
			e.checking, e.nextCheck = true, now.Add(e.CheckInterval)
			due = append(due, checkJob{id: id, e: e, gen: e.checkGen, check: e.Check, host: e.Host,
				timeout: min(e.CheckInterval, maxCheckTimeout)})
		}
		if link != upstream.LinkRegisters || r.routes == nil {
			r.unrenewed(e, now)
			continue
		}
		switch want := e.wanted(); {
		case want && !e.stopped && (!e.leased || !now.Before(e.renew)):
			op := pb.LeaseOp_LEASE_KEEP
			if e.wantNew {
				op = pb.LeaseOp_LEASE_NEW
			}
			send = append(send, upstream.LeaseEntry{Key: id.key, Host: id.host, TTL: e.TTL, Op: op})
			e.leased, e.renew, e.sent = true, now.Add(e.TTL/3), now
		case !want && e.leased:
			send = append(send, upstream.LeaseEntry{Key: id.key, Host: id.host, TTL: e.TTL, Op: pb.LeaseOp_LEASE_DROP})
			e.leased = false
		}
	}
	if link == upstream.LinkRegisters && r.routes != nil && len(r.drops) > 0 {
		send = append(r.drops, send...) // DROPs kept while no connection took them
		r.drops = nil
	}
	r.mu.Unlock()
	for i, j := range due {
		if !r.checks.start(ctx, j, r.checkDone) {
			r.unschedule(due[i:]) // every runner busy: due again at the next step
			break
		}
	}
	if len(send) > 0 && !r.routes.Lease(send) {
		r.unsent(send)
	}
}

// unsent puts back what could not be queued: the DROPs to send again, the others due
// at the next step.
func (r *registry) unsent(send []upstream.LeaseEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range send {
		if l.Op == pb.LeaseOp_LEASE_DROP {
			if e := r.entries[regID{l.Key, l.Host}]; (e == nil || !e.wanted()) && len(r.drops) < r.max {
				r.drops = append(r.drops, l)
			}
			continue
		}
		if e := r.entries[regID{l.Key, l.Host}]; e != nil {
			e.renew = time.Time{}
		}
	}
}

// unschedule makes the checks of jobs due again.
func (r *registry) unschedule(jobs []checkJob) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range jobs {
		if j.e.checkGen == j.gen {
			j.e.checking, j.e.nextCheck = false, time.Time{}
		}
	}
}

// unrenewed notes, while no connection takes registrations, that a lease not renewed
// for its ttl has ended at the route service: the registration is pending again, and
// registered again (KEEP) by the next connection that takes registrations; r.mu is
// held.
func (r *registry) unrenewed(e *regEntry, now time.Time) {
	st := e.state
	if (st == pb.RegisterState_REG_ACTIVE || st == pb.RegisterState_REG_STATIC) && now.Sub(e.sent) > e.TTL {
		e.state, e.message = pb.RegisterState_REG_PENDING, "not renewed for its ttl: no connection to a route service that takes registrations"
	}
}
