package api_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/api/apitest"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/route"
)

// instance is the address the tests register.
var instance = netip.MustParseAddrPort("10.0.0.7:8080")

// Register ops on the wire, as apitest.Request.RegOp records them.
const (
	opKeep = 0
	opNew  = 1
	opDrop = 2
)

// ops returns the ops of the register requests the agent received.
func ops(a *apitest.Agent) []int32 {
	var out []int32
	for _, r := range a.Registers() {
		out = append(out, r.RegOp)
	}
	return out
}

// statusLog records the statuses OnChange reports.
type statusLog struct {
	mu   sync.Mutex
	seen []api.RegStatus
}

func (l *statusLog) add(s api.RegStatus) {
	l.mu.Lock()
	l.seen = append(l.seen, s)
	l.mu.Unlock()
}

func (l *statusLog) states() []api.RegState {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []api.RegState
	for _, s := range l.seen {
		out = append(out, s.State)
	}
	return out
}

// register registers instance for key (1, 2) with agent a through a client with the
// patience timeout, and fails the test on an error.
func register(t *testing.T, a *apitest.Agent, opts api.RegisterOptions) (*api.Client, *api.Registration) {
	t.Helper()
	c := clientOf(t, a, patience)
	r, err := c.Register(context.Background(), 1, 2, instance, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return c, r
}

func TestRegisterPendingThenActive(t *testing.T) {
	a := startAgent(t)
	a.SetRegisterFunc(func(r apitest.Request, n int) apitest.RegisterAnswer {
		if n < 2 {
			return apitest.RegisterAnswer{State: api.RegPending}
		}
		return apitest.RegisterAnswer{State: api.RegActive}
	})
	var log statusLog
	c, r := register(t, a, api.RegisterOptions{Check: "tcp", CheckInterval: 500 * time.Millisecond, OnChange: log.add})
	if s := r.Status(); s.State != api.RegActive || s.TTL != api.DefaultRegisterTTL || s.Message != "" {
		t.Fatalf("status %+v, want active with the default ttl", s)
	}
	if got := log.states(); !slices.Equal(got, []api.RegState{api.RegPending, api.RegActive}) {
		t.Errorf("OnChange saw %v, want pending then active", got)
	}
	reqs := a.Registers()
	if len(reqs) < 3 {
		t.Fatalf("%d requests for 2 pending answers and an active one", len(reqs))
	}
	want := apitest.Request{Port: c.Port(1, 2), MsgID: codec.MsgRegisterRequest, Seq: reqs[0].Seq, Modid: 1, Cmdid: 2,
		Host: route.FromWire(10<<24|7, 8080), RegOp: opNew, TTLMS: 10000, Check: "tcp", CheckIntervalMS: 500}
	if reqs[0] != want {
		t.Errorf("first request %+v, want %+v", reqs[0], want)
	}
	for i, q := range reqs[1:] {
		if q.RegOp != opNew && q.RegOp != opKeep || q.Seq <= reqs[i].Seq {
			t.Errorf("poll %d: %+v after %+v", i+1, q, reqs[i])
		}
	}
	if reqs[len(reqs)-1].RegOp != opKeep {
		t.Errorf("polls after a pending answer: ops %v, want keepalives", ops(a))
	}
	if r.Err() != nil {
		t.Errorf("Err %v while the registration lasts", r.Err())
	}
	select {
	case <-r.Done():
		t.Fatal("Done closed while the registration lasts")
	default:
	}
}

func TestRegisterEndStates(t *testing.T) {
	for _, tc := range []struct {
		state api.RegState
		want  error
	}{
		{api.RegRefused, api.ErrRegistrationRefused},
		{api.RegInvalid, api.ErrRegistrationInvalid},
		{api.RegRemoved, api.ErrRegistrationRemoved},
	} {
		t.Run(tc.state.String(), func(t *testing.T) {
			a := startAgent(t)
			msg := "registration is off: start lars-dns with -allow-register"
			a.SetRegisterFunc(func(apitest.Request, int) apitest.RegisterAnswer {
				return apitest.RegisterAnswer{State: tc.state, Message: msg}
			})
			c := clientOf(t, a, patience)
			r, err := c.Register(context.Background(), 1, 2, instance, api.RegisterOptions{})
			if r != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Register = %v, %v; want %v", r, err, tc.want)
			}
			var re *api.RegisterError
			if !errors.As(err, &re) || re.State != tc.state || re.Message != msg || re.Addr != instance ||
				re.Modid != 1 || re.Cmdid != 2 || re.Agent.Port() != c.Port(1, 2) {
				t.Fatalf("error %#v", err)
			}
			if !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), tc.state.String()) {
				t.Errorf("error %q does not say the state and the agent's message", err)
			}
			for _, other := range []error{api.ErrRegistrationRefused, api.ErrRegistrationInvalid, api.ErrRegistrationRemoved, api.ErrTimeout} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("error matches %v too", other)
				}
			}
			if slices.Contains(ops(a), opDrop) {
				t.Errorf("ops %v: a registration the agent ended was dropped", ops(a))
			}
		})
	}
}

func TestRegisterNoAnswer(t *testing.T) {
	a := startAgent(t)
	a.SetRegisterFunc(func(apitest.Request, int) apitest.RegisterAnswer { return apitest.RegisterAnswer{Silent: true} })

	// The client's timeout (the behaviour under test) bounds the wait for a first answer.
	c := clientOf(t, a, 50*time.Millisecond)
	_, err := c.Register(context.Background(), 1, 2, instance, api.RegisterOptions{})
	if !errors.Is(err, api.ErrTimeout) || !strings.Contains(err.Error(), "did not answer a registration") ||
		!strings.Contains(err.Error(), "Lars agent") {
		t.Fatalf("silent agent: %v", err)
	}
	if slices.Contains(ops(a), opDrop) {
		t.Errorf("ops %v: dropped a registration the agent never took", ops(a))
	}

	// So does the context, cancelled once the agent has the request.
	c = clientOf(t, a, patience)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		a.WaitCount(codec.MsgRegisterRequest, uint64(len(a.Registers())+1), patience)
		cancel()
	}()
	_, err = c.Register(ctx, 1, 2, instance, api.RegisterOptions{})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "did not answer a registration") {
		t.Fatalf("cancelled: %v", err)
	}

	// Nothing listens on the port: said so, at once.
	c = newClient(t, api.Config{Ports: []uint16{closedPort(t)}, Timeout: patience})
	if _, err = c.Register(context.Background(), 1, 2, instance, api.RegisterOptions{}); !errors.Is(err, api.ErrAgentUnreachable) {
		t.Fatalf("closed port: %v", err)
	}
}

func TestRegisterPendingUntilDeadline(t *testing.T) {
	a := startAgent(t)
	a.SetRegisterFunc(func(r apitest.Request, _ int) apitest.RegisterAnswer {
		if r.RegOp == opDrop {
			return apitest.RegisterAnswer{State: api.RegGone}
		}
		return apitest.RegisterAnswer{State: api.RegPending, Message: "the route service is not connected yet"}
	})
	c := clientOf(t, a, patience)
	ctx := newDeadlineCtx()
	go func() {
		a.WaitCount(codec.MsgRegisterRequest, 3, patience) // polled twice after the first
		ctx.pass()
	}()
	_, err := c.Register(ctx, 1, 2, instance, api.RegisterOptions{})
	var re *api.RegisterError
	if !errors.As(err, &re) || re.State != api.RegPending || !errors.Is(err, api.ErrTimeout) ||
		!strings.Contains(err.Error(), "still pending") || !strings.Contains(err.Error(), "not connected yet") {
		t.Fatalf("pending past the deadline: %v", err)
	}
	if !waitFor(func() bool { o := ops(a); return o[len(o)-1] == opDrop }) {
		t.Fatalf("ops %v: the pending registration was not dropped", ops(a))
	}
}

func TestRegisterKeepsAlive(t *testing.T) {
	a := startAgent(t)
	opts := api.RegisterOptions{TTL: 3 * time.Second}
	timers := api.UseFakeTimers(&opts)
	_, r := register(t, a, opts)
	for i := range 3 {
		tm := timers.Next(patience)
		if tm == nil || tm.D != time.Second {
			t.Fatalf("keepalive %d: timer %+v, want a third of the 3s ttl", i, tm)
		}
		tm.Fire()
		if !a.WaitCount(codec.MsgRegisterRequest, uint64(i+2), patience) {
			t.Fatalf("keepalive %d not sent", i)
		}
	}
	if got := ops(a); !slices.Equal(got, []int32{opNew, opKeep, opKeep, opKeep}) {
		t.Errorf("ops %v, want new then 3 keepalives", got)
	}
	if r.State() != api.RegActive {
		t.Errorf("state %v", r.State())
	}
}

// TestRegisterAgentTTL: the keepalives follow the ttl the agent answers.
func TestRegisterAgentTTL(t *testing.T) {
	a := startAgent(t)
	a.SetRegisterFunc(func(apitest.Request, int) apitest.RegisterAnswer {
		return apitest.RegisterAnswer{State: api.RegStatic, TTL: 6 * time.Second}
	})
	opts := api.RegisterOptions{}
	timers := api.UseFakeTimers(&opts)
	_, r := register(t, a, opts)
	if s := r.Status(); s.State != api.RegStatic || s.TTL != 6*time.Second {
		t.Fatalf("status %+v", s)
	}
	if tm := timers.Next(patience); tm == nil || tm.D != 2*time.Second {
		t.Fatalf("timer %+v, want a third of the agent's 6s ttl", tm)
	}
}

// TestRegisterKeepalivesUnanswered: an agent that stops answering is asked again
// sooner, from PollMax doubling up to a third of the ttl, and once it answers again
// the keepalives go back to a third of the ttl.
func TestRegisterKeepalivesUnanswered(t *testing.T) {
	a := startAgent(t)
	var mu sync.Mutex
	silent := false
	a.SetRegisterFunc(func(apitest.Request, int) apitest.RegisterAnswer {
		mu.Lock()
		defer mu.Unlock()
		return apitest.RegisterAnswer{State: api.RegActive, Silent: silent}
	})
	var log statusLog
	opts := api.RegisterOptions{TTL: 3 * time.Second, OnChange: log.add}
	timers := api.UseFakeTimers(&opts)
	api.SetAnswerWait(&opts, 5*time.Millisecond) // how long an answer is awaited: under test
	_, r := register(t, a, opts)
	mu.Lock()
	silent = true
	mu.Unlock()
	for i, want := range []time.Duration{time.Second, api.PollMax, 2 * api.PollMax, 4 * api.PollMax, time.Second, time.Second} {
		tm := timers.Next(patience)
		if tm == nil || tm.D != want {
			t.Fatalf("timer %d: %+v, want %v", i, tm, want)
		}
		if i == 5 {
			mu.Lock()
			silent = false
			mu.Unlock()
		}
		tm.Fire()
		if i == 0 && !waitFor(func() bool { return r.Status().Unanswered == 1 }) {
			t.Fatalf("status %+v after an unanswered keepalive", r.Status())
		}
	}
	// The answer is awaited 5 ms: on a busy machine it may come later, while the
	// registration waits for its next keepalive, which is a third of the ttl either way.
	if tm := timers.Next(patience); tm == nil || tm.D != time.Second {
		t.Fatalf("answered again: timer %+v", tm)
	}
	if !waitFor(func() bool { return r.Status().Unanswered == 0 }) {
		t.Fatalf("answered again: status %+v", r.Status())
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if n := len(log.seen); n != 3 || log.seen[1].Unanswered != 1 || log.seen[2].Unanswered != 0 {
		t.Errorf("OnChange saw %+v, want active, unanswered, answered", log.seen)
	}
}

func TestRegisterRemovedLater(t *testing.T) {
	a := startAgent(t)
	a.SetRegisterFunc(func(_ apitest.Request, n int) apitest.RegisterAnswer {
		if n == 0 {
			return apitest.RegisterAnswer{State: api.RegActive}
		}
		return apitest.RegisterAnswer{State: api.RegRemoved, Message: "removed by admin@console"}
	})
	opts := api.RegisterOptions{}
	timers := api.UseFakeTimers(&opts)
	_, r := register(t, a, opts)
	timers.Next(patience).Fire()
	select {
	case <-r.Done():
	case <-time.After(patience):
		t.Fatal("Done not closed after the agent answered removed")
	}
	err := r.Err()
	var re *api.RegisterError
	if !errors.Is(err, api.ErrRegistrationRemoved) || !errors.As(err, &re) || re.Message != "removed by admin@console" {
		t.Fatalf("Err %v", err)
	}
	if r.State() != api.RegRemoved {
		t.Errorf("state %v", r.State())
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close after the end: %v", err)
	}
	if got := ops(a); !slices.Equal(got, []int32{opNew, opKeep}) {
		t.Errorf("ops %v: want no drop for a removed registration", got)
	}
}

func TestRegisterClose(t *testing.T) {
	a := startAgent(t)
	_, r := register(t, a, api.RegisterOptions{})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if got := ops(a); got[len(got)-1] != opDrop {
		t.Fatalf("ops %v: Close sent no drop", got)
	}
	if r.State() != api.RegGone || !errors.Is(r.Err(), api.ErrRegistrationClosed) {
		t.Errorf("after Close: state %v, Err %v", r.State(), r.Err())
	}
	<-r.Done()
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if n := len(a.Registers()); n != 2 {
		t.Errorf("%d requests, want new and drop", n)
	}
}

func TestRegisterCloseUnconfirmed(t *testing.T) {
	a := startAgent(t)
	a.SetRegisterFunc(func(r apitest.Request, _ int) apitest.RegisterAnswer {
		return apitest.RegisterAnswer{State: api.RegActive, Silent: r.RegOp == opDrop}
	})
	opts := api.RegisterOptions{}
	api.SetAnswerWait(&opts, 50*time.Millisecond) // the wait under test
	_, r := register(t, a, opts)
	err := r.Close()
	if !errors.Is(err, api.ErrTimeout) || !strings.Contains(err.Error(), "did not confirm") {
		t.Fatalf("Close = %v", err)
	}
	if got := ops(a); got[len(got)-1] != opDrop {
		t.Fatalf("ops %v", got)
	}
}

func TestRegisterClientClose(t *testing.T) {
	a := startAgent(t)
	c, r := register(t, a, api.RegisterOptions{})
	c.Close()
	select {
	case <-r.Done():
	case <-time.After(patience):
		t.Fatal("the client's Close did not end the registration")
	}
	if !errors.Is(r.Err(), api.ErrClosed) {
		t.Errorf("Err %v, want ErrClosed", r.Err())
	}
	if got := ops(a); got[len(got)-1] != opDrop {
		t.Errorf("ops %v: no drop", got)
	}
	if _, err := c.Register(context.Background(), 1, 2, instance, api.RegisterOptions{}); !errors.Is(err, api.ErrClosed) {
		t.Errorf("Register on a closed client: %v", err)
	}
}

// TestRegisterRealTimer keeps a registration alive on the real clock.
func TestRegisterRealTimer(t *testing.T) {
	a := startAgent(t)
	register(t, a, api.RegisterOptions{TTL: 30 * time.Millisecond})
	if !a.WaitCount(codec.MsgRegisterRequest, 4, patience) {
		t.Fatalf("ops %v: keepalives not sent", ops(a))
	}
}

func TestRegisterBadOptions(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	for _, tc := range []struct {
		addr string
		opts api.RegisterOptions
	}{
		{"[::1]:80", api.RegisterOptions{}},
		{"10.0.0.1:80", api.RegisterOptions{TTL: -time.Second}},
		{"10.0.0.1:80", api.RegisterOptions{TTL: time.Microsecond}},
		{"10.0.0.1:80", api.RegisterOptions{TTL: 100 * 24 * time.Hour}},
		{"10.0.0.1:80", api.RegisterOptions{Check: "udp"}},
		{"10.0.0.1:80", api.RegisterOptions{Check: "https://x/health"}},
		{"10.0.0.1:80", api.RegisterOptions{CheckInterval: time.Second}},
		{"10.0.0.1:80", api.RegisterOptions{Check: "tcp", CheckInterval: -time.Second}},
	} {
		if _, err := c.Register(context.Background(), 1, 2, netip.MustParseAddrPort(tc.addr), tc.opts); err == nil {
			t.Errorf("%s %+v: registered", tc.addr, tc.opts)
		}
	}
	if n := a.Count(codec.MsgRegisterRequest); n != 0 {
		t.Errorf("%d requests sent for bad options", n)
	}
}

// TestRegisterCloseKeptByAgent: an agent that keeps the instance (its INI registers it
// too) answers the drop with its state: Close says so.
func TestRegisterCloseKeptByAgent(t *testing.T) {
	a := startAgent(t)
	msg := "registered by the agent's configuration ([register]): remove its line and reload the agent"
	a.SetRegisterFunc(func(r apitest.Request, _ int) apitest.RegisterAnswer {
		if r.RegOp == opDrop {
			return apitest.RegisterAnswer{State: api.RegActive, Message: msg}
		}
		return apitest.RegisterAnswer{State: api.RegActive}
	})
	_, r := register(t, a, api.RegisterOptions{})
	err := r.Close()
	var re *api.RegisterError
	if !errors.As(err, &re) || re.State != api.RegActive || re.Message != msg || !strings.Contains(err.Error(), msg) {
		t.Fatalf("Close = %v", err)
	}
}

// TestRegisterClientClosedWhilePending: the client's Close ends a Register waiting for
// a pending registration.
func TestRegisterClientClosedWhilePending(t *testing.T) {
	a := startAgent(t)
	a.SetRegisterFunc(func(apitest.Request, int) apitest.RegisterAnswer {
		return apitest.RegisterAnswer{State: api.RegPending}
	})
	c := clientOf(t, a, patience)
	go func() {
		a.WaitCount(codec.MsgRegisterRequest, 2, patience)
		c.Close()
	}()
	if _, err := c.Register(context.Background(), 1, 2, instance, api.RegisterOptions{}); !errors.Is(err, api.ErrClosed) {
		t.Fatalf("Register = %v, want ErrClosed", err)
	}
}

func TestRegisterContextDoneBefore(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Register(ctx, 1, 2, instance, api.RegisterOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Register = %v", err)
	}
	if n := a.Count(codec.MsgRegisterRequest); n != 0 {
		t.Errorf("%d requests sent with a done context", n)
	}
}

// TestRegisterMalformedAnswers: answers that are not a RegisterReply for the instance
// are dropped and counted; the registration goes on with the next good one.
func TestRegisterMalformedAnswers(t *testing.T) {
	a := startAgent(t)
	other, err := codec.AppendFrame(nil, codec.MsgRegisterReply, &pb.RegisterReply{Seq: 1, Modid: 1, Cmdid: 3,
		Host: &pb.HostInfo{Ip: 10<<24 | 7, Port: 8080}, State: pb.RegisterState_REG_REFUSED})
	if err != nil {
		t.Fatal(err)
	}
	bad := [][]byte{{1, 2, 3}, {104, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff}, other}
	a.SetRegisterFunc(func(_ apitest.Request, n int) apitest.RegisterAnswer {
		if n < len(bad) {
			return apitest.RegisterAnswer{Raw: bad[n]}
		}
		return apitest.RegisterAnswer{State: api.RegActive}
	})
	c, r := register(t, a, api.RegisterOptions{})
	if r.State() != api.RegActive {
		t.Fatalf("state %v", r.State())
	}
	if s := c.Stats(); s.Malformed != uint64(len(bad)) {
		t.Errorf("%d malformed counted, want %d", s.Malformed, len(bad))
	}
}

// TestRegisterNoGoroutineLeft: a registration's goroutines end with it, whether it is
// closed, ended by the agent, or Register failed.
func TestRegisterNoGoroutineLeft(t *testing.T) {
	larstest.CheckGoroutines(t, patience)
	a := startAgent(t)
	a.SetRegisterFunc(func(r apitest.Request, n int) apitest.RegisterAnswer {
		switch {
		case r.Modid == 2:
			return apitest.RegisterAnswer{State: api.RegRefused}
		case r.Modid == 3 && n > 0:
			return apitest.RegisterAnswer{State: api.RegRemoved}
		case r.RegOp == opDrop:
			return apitest.RegisterAnswer{State: api.RegGone}
		}
		return apitest.RegisterAnswer{State: api.RegActive}
	})
	c := clientOf(t, a, patience)
	r, err := c.Register(context.Background(), 1, 1, instance, api.RegisterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := c.Register(context.Background(), 2, 1, instance, api.RegisterOptions{}); err == nil {
		t.Fatal("refused registration taken")
	}
	r, err = c.Register(context.Background(), 3, 1, instance, api.RegisterOptions{TTL: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	<-r.Done() // removed at its first keepalive
}
