package agent

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/agent/upstream"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/waitfor"
	"github.com/larsgo/lars/route"
)

// hostOf returns the netip.AddrPort of a loopback listener's address.
func hostOf(t *testing.T, addr string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// checkOutcome waits for the registration's check to have run and returns its state.
func (f *regFixture) checkOutcome(h netip.AddrPort) checkState {
	f.t.Helper()
	var st checkState
	done := waitfor.Poll(regPatience, func() bool {
		f.r.mu.Lock()
		defer f.r.mu.Unlock()
		e := f.r.entries[regID{rk, h}]
		st = e.check
		return !e.checking
	})
	if !done {
		f.t.Fatalf("the check did not end within %v", regPatience)
	}
	return st
}

// runCheck moves the clock past the check interval, steps (the check starts) and
// waits for its outcome.
func (f *regFixture) runCheck(h netip.AddrPort, interval time.Duration) checkState {
	f.t.Helper()
	f.clk.Advance(interval)
	f.step()
	return f.checkOutcome(h)
}

// TestCheckTCPWithdrawsAndRestores: a registration with a tcp check is registered once
// its check passes, withdrawn (DROP, REG_CHECK_FAILING, kept) when its listener goes,
// and registered again (KEEP) when it is back.
func TestCheckTCPWithdrawsAndRestores(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	h := hostOf(t, addr)
	f := newRegFixture(t, 10)
	f.r.LeaseLink("dns:7778", upstream.LinkRegisters)
	reg := Registration{Key: rk, Host: h, TTL: time.Hour, Check: "tcp", CheckInterval: 10 * time.Second} // timeout 2 s
	f.req(pb.RegisterOp_REGISTER_KEEP, reg)
	f.step() // the first check starts at once; nothing sent before it passes
	f.expectSent()
	if st := f.checkOutcome(h); st != checkPassing {
		t.Fatalf("check %v with the listener up", st)
	}
	f.step()
	f.expectSent(le(h, time.Hour, pb.LeaseOp_LEASE_KEEP))
	f.r.LeaseResults(ok(h, pb.LeaseOp_LEASE_KEEP, pb.LeaseStatus_LEASE_OK, ""))

	ln.Close()
	if st := f.runCheck(h, reg.CheckInterval); st != checkFailing {
		t.Fatalf("check %v with the listener closed", st)
	}
	if s := f.state(rk, h); s != pb.RegisterState_REG_CHECK_FAILING {
		t.Fatalf("state %v, want check failing", s)
	}
	f.step()
	f.expectSent(le(h, time.Hour, pb.LeaseOp_LEASE_DROP))
	if a := f.req(pb.RegisterOp_REGISTER_KEEP, reg); a.state != pb.RegisterState_REG_CHECK_FAILING {
		t.Fatalf("owner answered %v, want check failing", a.state)
	}

	if ln, err = net.Listen("tcp", addr); err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	defer ln.Close()
	if st := f.runCheck(h, reg.CheckInterval); st != checkPassing {
		t.Fatalf("check %v with the listener back", st)
	}
	f.step()
	f.expectSent(le(h, time.Hour, pb.LeaseOp_LEASE_KEEP))
	f.r.LeaseResults(ok(h, pb.LeaseOp_LEASE_KEEP, pb.LeaseStatus_LEASE_OK, ""))
	if s := f.state(rk, h); s != pb.RegisterState_REG_ACTIVE {
		t.Fatalf("state %v, want active again", s)
	}
	if r, fl := f.r.checks.run.Load(), f.r.checks.failed.Load(); r != 3 || fl != 1 {
		t.Fatalf("checks run %d failed %d, want 3 and 1", r, fl)
	}
}

// TestCheckHTTP: a GET answered 500 fails the check, 200 passes it; a redirect fails.
func TestCheckHTTP(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusInternalServerError)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.Redirect(w, r, "/health", http.StatusFound)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	h := hostOf(t, srv.Listener.Addr().String())
	f := newRegFixture(t, 10)
	f.r.LeaseLink("dns:7778", upstream.LinkRegisters)
	reg := Registration{Key: rk, Host: h, Check: srv.URL + "/health", CheckInterval: 10 * time.Second} // timeout 2 s
	f.req(pb.RegisterOp_REGISTER_NEW, reg)
	f.step()
	if st := f.checkOutcome(h); st != checkFailing {
		t.Fatalf("check %v against 500", st)
	}
	f.step()
	f.expectSent() // never registered: nothing to withdraw
	if a := f.req(pb.RegisterOp_REGISTER_KEEP, reg); a.state != pb.RegisterState_REG_CHECK_FAILING {
		t.Fatalf("answered %v", a.state)
	}
	status.Store(http.StatusOK)
	if st := f.runCheck(h, reg.CheckInterval); st != checkPassing {
		t.Fatalf("check %v against 200", st)
	}
	f.step()
	f.expectSent(le(h, DefaultRegisterTTL, pb.LeaseOp_LEASE_NEW))

	reg.Check = srv.URL + "/elsewhere" // a new check starts over: withdrawn until it passes
	f.req(pb.RegisterOp_REGISTER_KEEP, reg)
	f.step()
	if st := f.checkOutcome(h); st != checkFailing {
		t.Fatalf("check %v against a redirect", st)
	}
	f.step()
	f.expectSent(le(h, DefaultRegisterTTL, pb.LeaseOp_LEASE_DROP))
}

// TestCheckTimeout: a check that is not answered fails within its timeout.
func TestCheckTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	h := hostOf(t, srv.Listener.Addr().String())
	f := newRegFixture(t, 10)
	f.req(pb.RegisterOp_REGISTER_NEW, Registration{Key: rk, Host: h, Check: srv.URL, CheckInterval: 100 * time.Millisecond})
	f.step()
	if st := f.checkOutcome(h); st != checkFailing {
		t.Fatalf("check %v", st)
	}
	f.r.mu.Lock()
	msg := f.r.entries[regID{rk, h}].checkErr
	f.r.mu.Unlock()
	if msg == "" {
		t.Fatal("no reason kept")
	}
}

// TestCheckBounded: at most maxChecksRunning run at once; the others wait for a later
// step.
func TestCheckBounded(t *testing.T) {
	release := make(chan struct{})
	var running atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		running.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	f := newRegFixture(t, 1000)
	n := maxChecksRunning + 10
	for i := range n {
		f.req(pb.RegisterOp_REGISTER_NEW, Registration{Key: rk, Host: route.AddrPortFromWire(wireIP(rh), int32(1000+i)),
			Check: srv.URL + "/" + strconv.Itoa(i), CheckInterval: time.Minute})
	}
	f.step()
	if !waitfor.Poll(regPatience, func() bool { return running.Load() == maxChecksRunning }) {
		t.Fatalf("%d checks running, want %d", running.Load(), maxChecksRunning)
	}
	waiting := 0
	f.r.mu.Lock()
	for _, e := range f.r.entries {
		if !e.checking {
			waiting++
		}
	}
	f.r.mu.Unlock()
	if waiting != 10 {
		t.Fatalf("%d checks waiting, want 10", waiting)
	}
	close(release)
}

// TestCheckerWaitClosesConnections: once the checker is waited for (the agent
// stopping), no kept-alive connection of an HTTP check is left, the instance's
// server still up.
func TestCheckerWaitClosesConnections(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	f := newRegFixture(t, 10)
	h := hostOf(t, srv.Listener.Addr().String())
	f.req(pb.RegisterOp_REGISTER_NEW, Registration{Key: rk, Host: h, Check: srv.URL, CheckInterval: 10 * time.Second})
	f.step()
	if st := f.checkOutcome(h); st != checkPassing {
		t.Fatalf("check %v", st)
	}
	f.r.checks.wait()
	if !waitfor.Poll(regPatience, func() bool { return waitfor.GoroutinesIn("net/http.(*persistConn).readLoop") == 0 }) {
		t.Fatal("a check's connection is still open after wait")
	}
}
