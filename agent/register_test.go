package agent

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/agent/upstream"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/route"
)

// regPatience bounds the waits for a check's outcome (a goroutine of its own): never
// reached on a working build.
const regPatience = 30 * time.Second

var (
	regQuiet = slog.New(slog.DiscardHandler)
	rk       = route.Key{Modid: 9, Cmdid: 1}
	rh       = route.AddrPortFromWire(10<<24|5, 9000)
)

// fakeSender records the Lease calls of the registry; full makes it refuse them.
type fakeSender struct {
	mu   sync.Mutex
	sent [][]upstream.LeaseEntry
	full bool
}

func (f *fakeSender) Lease(e []upstream.LeaseEntry) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full {
		return false
	}
	f.sent = append(f.sent, slices.Clone(e))
	return true
}

// take returns the entries sent since the last call, in order.
func (f *fakeSender) take() []upstream.LeaseEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []upstream.LeaseEntry
	for _, s := range f.sent {
		out = append(out, s...)
	}
	f.sent = nil
	return out
}

// regFixture is a registry on a fake clock with a fake route client.
type regFixture struct {
	t     *testing.T
	r     *registry
	clk   *fakeclock.Clock
	lease *fakeSender
}

func newRegFixture(t *testing.T, max int) *regFixture {
	clk := fakeclock.New()
	f := &fakeSender{}
	r := newRegistry(max, clk.Now, f, regQuiet)
	t.Cleanup(r.checks.wait)
	return &regFixture{t: t, r: r, clk: clk, lease: f}
}

func (f *regFixture) step() { f.r.step(context.Background(), f.clk.Now()) }

func (f *regFixture) req(op pb.RegisterOp, reg Registration) answer {
	return f.r.request(op, reg, f.clk.Now())
}

// expectSent checks the lease entries sent since the last look.
func (f *regFixture) expectSent(want ...upstream.LeaseEntry) {
	f.t.Helper()
	if got := f.lease.take(); !slices.Equal(got, want) {
		f.t.Fatalf("sent %+v, want %+v", got, want)
	}
}

func (f *regFixture) state(k route.Key, h netip.AddrPort) pb.RegisterState {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	if e := f.r.entries[regID{k, h}]; e != nil {
		return e.shown()
	}
	return pb.RegisterState_REG_GONE
}

func le(h netip.AddrPort, ttl time.Duration, op pb.LeaseOp) upstream.LeaseEntry {
	return upstream.LeaseEntry{Key: rk, Host: h, TTL: ttl, Op: op}
}

func ok(h netip.AddrPort, op pb.LeaseOp, st pb.LeaseStatus, msg string) []upstream.LeaseResult {
	return []upstream.LeaseResult{{Key: rk, Host: h, Op: op, Status: st, Message: msg}}
}

// TestRegisterValidation: out-of-range requests are answered REG_INVALID, counted,
// and not kept; the defaults are filled in.
func TestRegisterValidation(t *testing.T) {
	f := newRegFixture(t, 10)
	for _, bad := range []Registration{
		{Key: rk, Host: route.AddrPortFromWire(wireIP(rh), 0)},
		{Key: rk, Host: route.AddrPortFromWire(wireIP(rh), 65536)},
		{Key: rk, Host: route.AddrPortFromWire(0, 9000)},
		{Key: rk, Host: netip.MustParseAddrPort("[2001:db8::1]:9000")},
		{Key: rk, Host: rh, TTL: 999 * time.Millisecond},
		{Key: rk, Host: rh, TTL: time.Hour + time.Millisecond},
		{Key: rk, Host: rh, Check: "udp"},
		{Key: rk, Host: rh, Check: "https://x/"},
		{Key: rk, Host: rh, Check: "http:///path"},
		{Key: rk, Host: rh, Check: "http://u:p@x/"},
		{Key: rk, Host: rh, Check: "http://x:0/"},
		{Key: rk, Host: rh, Check: "http://x:/"},
		{Key: rk, Host: rh, Check: "http://x/#frag"},
		{Key: rk, Host: rh, Check: "tcp", CheckInterval: 99 * time.Millisecond},
		{Key: rk, Host: rh, Check: "tcp", CheckInterval: time.Minute + 1},
	} {
		a := f.req(pb.RegisterOp_REGISTER_NEW, bad)
		if a.state != pb.RegisterState_REG_INVALID || a.message == "" {
			t.Errorf("%+v: answered %v %q, want REG_INVALID with a reason", bad, a.state, a.message)
		}
	}
	if n := f.r.invalid.Load(); n != 15 {
		t.Errorf("%d invalid counted, want 15", n)
	}
	if len(f.r.entries) != 0 {
		t.Fatalf("%d registrations kept, want none", len(f.r.entries))
	}
	a := f.req(pb.RegisterOp_REGISTER_NEW, Registration{Key: rk, Host: rh, Check: "http://127.0.0.1:9000/health?x=1"})
	if a.state != pb.RegisterState_REG_PENDING || a.ttl != DefaultRegisterTTL {
		t.Fatalf("answered %v ttl %v, want REG_PENDING with the default ttl", a.state, a.ttl)
	}
	if e := f.r.entries[regID{rk, rh}]; e.CheckInterval != DefaultCheckInterval {
		t.Fatalf("check interval %v, want the default", e.CheckInterval)
	}
}

// TestRegisterLifecycle: pending until the link takes registrations, then NEW sent
// at once and ACTIVE once answered, renewed (KEEP) every ttl/3, DROP on deregistering.
func TestRegisterLifecycle(t *testing.T) {
	f := newRegFixture(t, 10)
	reg := Registration{Key: rk, Host: rh, TTL: 3 * time.Second}
	if a := f.req(pb.RegisterOp_REGISTER_NEW, reg); a.state != pb.RegisterState_REG_PENDING || a.ttl != 3*time.Second {
		t.Fatalf("answered %+v, want pending", a)
	}
	f.step()
	f.expectSent() // no link yet: stays pending
	f.r.LeaseLink("dns:7778", upstream.LinkRegisters)
	f.step()
	f.expectSent(le(rh, 3*time.Second, pb.LeaseOp_LEASE_NEW))
	f.r.LeaseResults(ok(rh, pb.LeaseOp_LEASE_NEW, pb.LeaseStatus_LEASE_OK, ""))
	if a := f.req(pb.RegisterOp_REGISTER_KEEP, reg); a.state != pb.RegisterState_REG_ACTIVE {
		t.Fatalf("answered %v, want active", a.state)
	}
	f.clk.Advance(999 * time.Millisecond)
	f.step()
	f.expectSent() // not due yet
	f.clk.Advance(time.Millisecond)
	f.step()
	f.expectSent(le(rh, 3*time.Second, pb.LeaseOp_LEASE_KEEP)) // answered NEW: renewals are KEEPs
	if a := f.req(pb.RegisterOp_REGISTER_DROP, reg); a.state != pb.RegisterState_REG_GONE {
		t.Fatalf("drop answered %v, want gone", a.state)
	}
	f.step()
	f.expectSent(le(rh, 3*time.Second, pb.LeaseOp_LEASE_DROP))
	if a := f.req(pb.RegisterOp_REGISTER_DROP, reg); a.state != pb.RegisterState_REG_GONE {
		t.Fatalf("second drop answered %v, want gone", a.state)
	}
	f.step()
	f.expectSent()
}

// TestRegisterKeepaliveExpiry: a client registration not kept alive for its ttl is
// dropped (LEASE_DROP, counted); one kept alive stays; an INI one never expires.
func TestRegisterKeepaliveExpiry(t *testing.T) {
	f := newRegFixture(t, 10)
	hINI := route.AddrPortFromWire(wireIP(rh), 9001)
	if err := f.r.setINI([]Registration{{Key: rk, Host: hINI, TTL: time.Second}}); err != nil {
		t.Fatal(err)
	}
	f.r.LeaseLink("dns:7778", upstream.LinkRegisters)
	reg := Registration{Key: rk, Host: rh, TTL: 3 * time.Second}
	f.req(pb.RegisterOp_REGISTER_NEW, reg)
	f.step()
	if got := f.lease.take(); len(got) != 2 {
		t.Fatalf("sent %v, want the NEWs of both", got)
	}
	for range 5 { // kept alive every 2 s for 10 s: stays
		f.clk.Advance(2 * time.Second)
		f.req(pb.RegisterOp_REGISTER_KEEP, reg)
		f.step()
	}
	f.lease.take()
	if f.state(rk, rh) == pb.RegisterState_REG_GONE {
		t.Fatal("a registration kept alive expired")
	}
	f.clk.Advance(3 * time.Second) // exactly the ttl since the last keepalive: not yet
	f.step()
	if f.state(rk, rh) == pb.RegisterState_REG_GONE {
		t.Fatal("expired at its ttl, want after it")
	}
	f.lease.take()
	f.clk.Advance(time.Millisecond)
	f.step()
	sent := f.lease.take()
	if !slices.Contains(sent, le(rh, 3*time.Second, pb.LeaseOp_LEASE_DROP)) {
		t.Fatalf("sent %v, want the expired one's DROP", sent)
	}
	if f.state(rk, rh) != pb.RegisterState_REG_GONE || f.r.expired.Load() != 1 {
		t.Fatalf("state %v, expired %d: want gone, 1", f.state(rk, rh), f.r.expired.Load())
	}
	f.clk.Advance(time.Hour)
	f.step()
	if f.state(rk, hINI) == pb.RegisterState_REG_GONE {
		t.Fatal("an INI registration expired")
	}
}

// TestRegisterServiceAnswers maps each lease status to the state the owner is
// answered, and checks which are renewed.
func TestRegisterServiceAnswers(t *testing.T) {
	f := newRegFixture(t, 10)
	f.r.LeaseLink("dns:7778", upstream.LinkRegisters)
	reg := Registration{Key: rk, Host: rh, TTL: 3 * time.Second}
	keep := func() answer { return f.req(pb.RegisterOp_REGISTER_KEEP, reg) }
	f.req(pb.RegisterOp_REGISTER_NEW, reg)
	f.step()
	f.lease.take()

	f.r.LeaseResults(ok(rh, pb.LeaseOp_LEASE_NEW, pb.LeaseStatus_LEASE_FAILED, "store down"))
	if a := keep(); a.state != pb.RegisterState_REG_PENDING || a.message != "store down" {
		t.Fatalf("after FAILED: %+v, want pending with the message", a)
	}
	f.clk.Advance(time.Second)
	f.step()
	f.expectSent(le(rh, 3*time.Second, pb.LeaseOp_LEASE_NEW)) // tried again, still a NEW

	f.r.LeaseResults(ok(rh, pb.LeaseOp_LEASE_NEW, pb.LeaseStatus_LEASE_STATIC, ""))
	if a := keep(); a.state != pb.RegisterState_REG_STATIC {
		t.Fatalf("after STATIC: %v", a.state)
	}
	// An operator removes it: unasked REMOVED; not renewed any more.
	f.r.LeaseResults(ok(rh, pb.LeaseOp_LEASE_KEEP, pb.LeaseStatus_LEASE_REMOVED, "removed by alice"))
	if a := keep(); a.state != pb.RegisterState_REG_REMOVED || a.message != "removed by alice" {
		t.Fatalf("after REMOVED: %+v", a)
	}
	f.clk.Advance(2 * time.Second)
	f.step()
	f.expectSent()
	// The process starts again: NEW undoes the removal.
	if a := f.req(pb.RegisterOp_REGISTER_NEW, reg); a.state != pb.RegisterState_REG_PENDING {
		t.Fatalf("NEW after REMOVED answered %v, want pending", a.state)
	}
	f.step()
	f.expectSent(le(rh, 3*time.Second, pb.LeaseOp_LEASE_NEW))
	f.r.LeaseResults(ok(rh, pb.LeaseOp_LEASE_NEW, pb.LeaseStatus_LEASE_DENIED, "not allowed"))
	if a := keep(); a.state != pb.RegisterState_REG_REFUSED || a.message != "not allowed" {
		t.Fatalf("after DENIED: %+v", a)
	}
	if f.r.refused[refusedDenied].Load() != 1 {
		t.Fatal("denial not counted")
	}
	f.req(pb.RegisterOp_REGISTER_NEW, reg)
	f.step()
	f.lease.take()
	f.r.LeaseResults(ok(rh, pb.LeaseOp_LEASE_NEW, pb.LeaseStatus_LEASE_INVALID, "ttl"))
	if a := keep(); a.state != pb.RegisterState_REG_INVALID {
		t.Fatalf("after INVALID: %v", a.state)
	}
}

// TestRegisterUnsupportedPeer: a route service that does not take registrations
// refuses every registration, counted, with a message naming it; new ones too. A link
// that takes them next gets every one again (re-registration after failover).
func TestRegisterUnsupportedPeer(t *testing.T) {
	f := newRegFixture(t, 10)
	h2 := route.AddrPortFromWire(wireIP(rh), 9001)
	f.req(pb.RegisterOp_REGISTER_NEW, Registration{Key: rk, Host: rh})
	f.r.LeaseLink("lars:7778", upstream.LinkNoRegister)
	a := f.req(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: rh})
	if a.state != pb.RegisterState_REG_REFUSED || a.message != "the route service lars:7778 does not take registrations" {
		t.Fatalf("answered %+v", a)
	}
	if a := f.req(pb.RegisterOp_REGISTER_NEW, Registration{Key: rk, Host: h2}); a.state != pb.RegisterState_REG_REFUSED {
		t.Fatalf("a new registration answered %v, want refused", a.state)
	}
	if n := f.r.refused[refusedUnsupported].Load(); n != 2 {
		t.Fatalf("%d refusals counted, want 2", n)
	}
	f.step()
	f.expectSent()
	f.r.LeaseLink("", upstream.LinkDown)
	f.r.LeaseLink("ours:7778", upstream.LinkRegisters)
	if a := f.req(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: rh}); a.state != pb.RegisterState_REG_PENDING {
		t.Fatalf("answered %v after a link that registers, want pending", a.state)
	}
	f.step()
	sent := f.lease.take()
	slices.SortFunc(sent, func(a, b upstream.LeaseEntry) int { return int(a.Host.Port()) - int(b.Host.Port()) })
	if !slices.Equal(sent, []upstream.LeaseEntry{le(rh, DefaultRegisterTTL, pb.LeaseOp_LEASE_NEW), le(h2, DefaultRegisterTTL, pb.LeaseOp_LEASE_NEW)}) {
		t.Fatalf("sent %+v, want both registered", sent)
	}
}

// TestRegisterReconnect: every registration kept is sent again (KEEP) right after a
// new link that takes registrations, however recently renewed, but the one an
// operator removed.
func TestRegisterReconnect(t *testing.T) {
	f := newRegFixture(t, 10)
	h2 := route.AddrPortFromWire(wireIP(rh), 9001)
	f.r.LeaseLink("a:7778", upstream.LinkRegisters)
	f.req(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: rh})
	f.req(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: h2})
	f.step()
	f.lease.take()
	f.r.LeaseResults(ok(h2, pb.LeaseOp_LEASE_KEEP, pb.LeaseStatus_LEASE_REMOVED, "removed"))
	f.r.LeaseLink("", upstream.LinkDown)
	f.step()
	f.expectSent()
	f.r.LeaseLink("b:7778", upstream.LinkRegisters)
	f.step()
	f.expectSent(le(rh, DefaultRegisterTTL, pb.LeaseOp_LEASE_KEEP))
}

// TestRegisterTooMany: the table is bounded; beyond it a new registration is refused
// and counted, an existing one still kept alive.
func TestRegisterTooMany(t *testing.T) {
	f := newRegFixture(t, 2)
	for p := range int32(2) {
		if a := f.req(pb.RegisterOp_REGISTER_NEW, Registration{Key: rk, Host: route.AddrPortFromWire(wireIP(rh), 9000+p)}); a.state != pb.RegisterState_REG_PENDING {
			t.Fatalf("answered %v", a.state)
		}
	}
	a := f.req(pb.RegisterOp_REGISTER_NEW, Registration{Key: rk, Host: route.AddrPortFromWire(wireIP(rh), 9002)})
	if a.state != pb.RegisterState_REG_REFUSED || a.message != "too many registrations: this agent keeps at most 2" {
		t.Fatalf("answered %+v", a)
	}
	if f.r.refused[refusedTooMany].Load() != 1 {
		t.Fatal("not counted")
	}
	if a := f.req(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: rh}); a.state != pb.RegisterState_REG_PENDING {
		t.Fatalf("keepalive of a kept one answered %v", a.state)
	}
	if err := f.r.setINI([]Registration{{Key: rk, Host: route.AddrPortFromWire(wireIP(rh), 9003)}}); err == nil {
		t.Fatal("INI beyond the maximum taken")
	}
}

// TestRegisterStaticRoutes: an agent without a route service refuses registrations.
func TestRegisterStaticRoutes(t *testing.T) {
	r := newRegistry(10, nil, nil, regQuiet)
	a := r.request(pb.RegisterOp_REGISTER_NEW, Registration{Key: rk, Host: rh}, time.Now())
	if a.state != pb.RegisterState_REG_REFUSED || r.refused[refusedStatic].Load() != 1 {
		t.Fatalf("answered %+v", a)
	}
}

// TestRegisterINIReload: lines added are registered anew, lines gone dropped, a
// client's registration named by a line becomes the line's; an invalid list changes
// nothing.
func TestRegisterINIReload(t *testing.T) {
	f := newRegFixture(t, 10)
	h2, h3 := route.AddrPortFromWire(wireIP(rh), 9001), route.AddrPortFromWire(wireIP(rh), 9002)
	f.r.LeaseLink("dns:7778", upstream.LinkRegisters)
	if err := f.r.setINI([]Registration{{Key: rk, Host: rh}, {Key: rk, Host: h2}}); err != nil {
		t.Fatal(err)
	}
	f.req(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: h3, TTL: time.Second})
	f.step()
	f.lease.take()
	if err := f.r.setINI([]Registration{{Key: rk, Host: rh}, {Key: rk, Host: h3, TTL: 2 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	f.step()
	sent := f.lease.take()
	if !slices.Contains(sent, le(h2, DefaultRegisterTTL, pb.LeaseOp_LEASE_DROP)) ||
		!slices.Contains(sent, le(h3, 2*time.Second, pb.LeaseOp_LEASE_NEW)) {
		t.Fatalf("sent %+v, want h2 dropped and h3 registered anew with its line's ttl", sent)
	}
	f.clk.Advance(time.Hour)
	f.step()
	if f.state(rk, h3) == pb.RegisterState_REG_GONE {
		t.Fatal("the client's registration taken by a line expired")
	}
	if err := f.r.setINI([]Registration{{Key: rk, Host: rh, TTL: time.Millisecond}}); err == nil {
		t.Fatal("invalid line taken")
	}
	if a := f.req(pb.RegisterOp_REGISTER_DROP, Registration{Key: rk, Host: rh}); a.state == pb.RegisterState_REG_GONE {
		t.Fatal("a process deregistered an INI registration")
	}
	if f.state(rk, h3) == pb.RegisterState_REG_GONE {
		t.Fatal("an invalid list changed the registrations")
	}
}

// TestRegisterQueueFull: entries the route client could not queue are sent at the
// next step.
func TestRegisterQueueFull(t *testing.T) {
	f := newRegFixture(t, 10)
	f.r.LeaseLink("dns:7778", upstream.LinkRegisters)
	f.req(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: rh})
	f.lease.full = true
	f.step()
	f.lease.full = false
	f.step()
	f.expectSent(le(rh, DefaultRegisterTTL, pb.LeaseOp_LEASE_KEEP))
}

// TestRegisterWhileDisconnected: a deregistration while no connection takes Lease
// frames is sent by the next one that does; a lease not renewed for its ttl makes the
// registration pending again.
func TestRegisterWhileDisconnected(t *testing.T) {
	f := newRegFixture(t, 10)
	h2 := route.AddrPortFromWire(wireIP(rh), 9001)
	f.r.LeaseLink("a:7778", upstream.LinkRegisters)
	f.req(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: rh, TTL: 3 * time.Second})
	f.req(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: h2, TTL: 3 * time.Second})
	f.step()
	f.lease.take()
	f.r.LeaseResults(ok(rh, pb.LeaseOp_LEASE_KEEP, pb.LeaseStatus_LEASE_OK, ""))
	f.r.LeaseLink("", upstream.LinkDown)
	f.req(pb.RegisterOp_REGISTER_DROP, Registration{Key: rk, Host: h2})
	f.clk.Advance(3 * time.Second)
	f.req(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: rh, TTL: 3 * time.Second})
	f.step()
	f.expectSent()
	if a := f.req(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: rh, TTL: 3 * time.Second}); a.state != pb.RegisterState_REG_ACTIVE {
		t.Fatalf("answered %v at the lease's end, want still active", a.state)
	}
	f.clk.Advance(time.Millisecond)
	f.step()
	if a := f.req(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: rh, TTL: 3 * time.Second}); a.state != pb.RegisterState_REG_PENDING || a.message == "" {
		t.Fatalf("answered %+v past the lease's end without a connection, want pending with a reason", a)
	}
	f.r.LeaseLink("b:7778", upstream.LinkRegisters)
	f.step()
	f.expectSent(le(h2, 3*time.Second, pb.LeaseOp_LEASE_DROP), le(rh, 3*time.Second, pb.LeaseOp_LEASE_KEEP))
}

// TestRegisterKeepaliveDoesNotWake: a keepalive that changes nothing leaves the loop
// asleep (10,000 owners renewing must not make it step for each); one that changes
// the ttl wakes it; a new interval alone keeps the check's state.
func TestRegisterKeepaliveDoesNotWake(t *testing.T) {
	f := newRegFixture(t, 10)
	reg := Registration{Key: rk, Host: rh, Check: "tcp", CheckInterval: time.Second}
	f.req(pb.RegisterOp_REGISTER_KEEP, reg)
	<-f.r.kick
	f.req(pb.RegisterOp_REGISTER_KEEP, reg)
	select {
	case <-f.r.kick:
		t.Fatal("an unchanged keepalive woke the loop")
	default:
	}
	f.r.mu.Lock()
	f.r.entries[regID{rk, rh}].check = checkPassing
	f.r.mu.Unlock()
	reg.CheckInterval = 2 * time.Second
	f.req(pb.RegisterOp_REGISTER_KEEP, reg)
	<-f.r.kick
	f.r.mu.Lock()
	st := f.r.entries[regID{rk, rh}].check
	f.r.mu.Unlock()
	if st != checkPassing {
		t.Fatalf("a new interval reset the check to %v", st)
	}
	reg.TTL = 2 * time.Second
	f.req(pb.RegisterOp_REGISTER_KEEP, reg)
	select {
	case <-f.r.kick:
	default:
		t.Fatal("a new ttl did not wake the loop")
	}
}
