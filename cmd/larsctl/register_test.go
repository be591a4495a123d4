package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/api/apitest"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/internal/waitfor"
)

// registerRun is a larsctl register run in the background against agent a, with
// the context a signal would cancel in its stead.
type registerRun struct {
	out, errOut proctest.Buffer
	stop        context.CancelFunc // SIGINT or SIGTERM
	code        chan int
}

// startRegister runs larsctl with args against the agent on ports, register's signal
// context replaced by one the test cancels.
func startRegister(t *testing.T, ports []uint16, args ...string) *registerRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	saved := registerContext
	registerContext = func() (context.Context, context.CancelFunc) { return ctx, func() {} }
	r := &registerRun{stop: cancel, code: make(chan int, 1)}
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
		registerContext = saved
	})
	args = append([]string{"-ports", portsFlag(ports), "-timeout", answerLimit}, args...)
	go func() {
		defer close(done)
		r.code <- run(args, &r.out, &r.errOut)
	}()
	return r
}

// exit waits for the run's exit code.
func (r *registerRun) exit(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.code:
		return code
	case <-time.After(waitLimit):
		t.Fatalf("larsctl register did not exit; stdout:\n%s", r.out.String())
		return -1
	}
}

// regOps returns the ops of the register requests agent a received.
func regOps(a *apitest.Agent) []int32 {
	var out []int32
	for _, r := range a.Registers() {
		out = append(out, r.RegOp)
	}
	return out
}

func TestRegisterUntilSignal(t *testing.T) {
	a := fake(t)
	a.SetRegisterFunc(func(r apitest.Request, n int) apitest.RegisterAnswer {
		switch {
		case r.RegOp == 2:
			return apitest.RegisterAnswer{State: api.RegGone}
		case n == 0:
			return apitest.RegisterAnswer{State: api.RegPending, Message: "waiting for the route service"}
		}
		return apitest.RegisterAnswer{State: api.RegActive}
	})
	r := startRegister(t, a.Ports(), "register", "1", "2", "10.0.0.7", "8080", "-check", "tcp", "-interval", "2s", "-ttl", "6s")
	if !waitfor.Poll(waitLimit, func() bool { return strings.Contains(r.out.String(), "registered") }) {
		t.Fatalf("not registered; stdout:\n%s\nstderr:\n%s", r.out.String(), r.errOut.String())
	}
	r.stop() // SIGTERM
	if code := r.exit(t); code != exitOK {
		t.Fatalf("exit %d after the signal; stderr:\n%s", code, r.errOut.String())
	}
	want := "pending: waiting for the route service\nactive\n" +
		"registered 10.0.0.7:8080 for (1, 2) at agent 127.0.0.1:" + strings.Split(portsFlag(a.Ports()[:1]), ",")[0] +
		", ttl 6s: SIGINT or SIGTERM deregisters it\nderegistered\n"
	if got := r.out.String(); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	reqs := a.Registers()
	q := reqs[0]
	if q.Port != a.Ports()[0] || q.Modid != 1 || q.Cmdid != 2 || q.Host != host("10.0.0.7:8080") ||
		q.RegOp != 1 || q.TTLMS != 6000 || q.Check != "tcp" || q.CheckIntervalMS != 2000 {
		t.Errorf("first request %+v", q)
	}
	if ops := regOps(a); ops[len(ops)-1] != 2 {
		t.Errorf("ops %v: the signal did not deregister", ops)
	}
}

func TestRegisterEndedByAgent(t *testing.T) {
	a := fake(t)
	a.SetRegisterFunc(func(_ apitest.Request, n int) apitest.RegisterAnswer {
		if n == 0 {
			return apitest.RegisterAnswer{State: api.RegActive}
		}
		return apitest.RegisterAnswer{State: api.RegRemoved, Message: "removed by admin@console"}
	})
	// A short ttl: keepalives every 10 ms, the second answered removed.
	r := startRegister(t, a.Ports(), "register", "-ttl", "30ms", "1", "2", "10.0.0.7", "8080")
	code := r.exit(t)
	check(t, code, r.out.String(), r.errOut.String(), exitFailure, "-")
	if !strings.Contains(r.errOut.String(), "removed by admin@console") || !strings.HasSuffix(r.out.String(), "removed: removed by admin@console\n") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.out.String(), r.errOut.String())
	}
	if slices.Contains(regOps(a), 2) {
		t.Errorf("ops %v: a removed registration was dropped", regOps(a))
	}
}

func TestRegisterRefused(t *testing.T) {
	a := fake(t)
	a.SetRegisterFunc(func(apitest.Request, int) apitest.RegisterAnswer {
		return apitest.RegisterAnswer{State: api.RegRefused, Message: "the route service 10.0.0.9:7777 does not take registrations"}
	})
	code, out, errOut := larsctl(a, "register", "1", "2", "10.0.0.7", "8080")
	check(t, code, out, errOut, exitFailure, "refused: the route service 10.0.0.9:7777 does not take registrations\n")
	if !strings.Contains(errOut, "does not take registrations") {
		t.Errorf("stderr: %s", errOut)
	}
}

func TestRegisterLarsAgent(t *testing.T) {
	a := fake(t)
	a.SetRegisterFunc(func(apitest.Request, int) apitest.RegisterAnswer { return apitest.RegisterAnswer{Silent: true} })
	// -timeout 50ms: the wait for the agent's first answer, under test.
	code, out, errOut := larsctl(nil, "-ports", portsFlag(a.Ports()), "-timeout", "50ms", "register", "1", "2", "10.0.0.7", "8080")
	check(t, code, out, errOut, exitTimeout, "")
	if !strings.Contains(errOut, "did not answer a registration") || !strings.Contains(errOut, "Lars agent") {
		t.Errorf("stderr: %s", errOut)
	}
}

func TestRegisterPendingPastWait(t *testing.T) {
	a := fake(t)
	a.SetRegisterFunc(func(r apitest.Request, _ int) apitest.RegisterAnswer {
		if r.RegOp == 2 {
			return apitest.RegisterAnswer{State: api.RegGone}
		}
		return apitest.RegisterAnswer{State: api.RegPending}
	})
	code, out, errOut := larsctl(a, "register", "-wait", "100ms", "1", "2", "10.0.0.7", "8080")
	check(t, code, out, errOut, exitTimeout, "pending\n")
	if !strings.Contains(errOut, "still pending") {
		t.Errorf("stderr: %s", errOut)
	}
	if !waitfor.Poll(waitLimit, func() bool { o := regOps(a); return o[len(o)-1] == 2 }) {
		t.Errorf("ops %v: the pending registration was not dropped", regOps(a))
	}
}

func TestRegisterUsage(t *testing.T) {
	for _, args := range [][]string{
		{"register"},
		{"register", "1", "2", "10.0.0.1"},
		{"register", "1", "2", "10.0.0.1", "80", "x"},
		{"register", "x", "2", "10.0.0.1", "80"},
		{"register", "1", "2", "::1", "80"},
		{"register", "1", "2", "host.example", "80"},
		{"register", "1", "2", "10.0.0.1", "0"},
		{"register", "1", "2", "10.0.0.1", "65536"},
		{"register", "1", "2", "10.0.0.1", "80", "-ttl", "0s"},
		{"register", "1", "2", "10.0.0.1", "80", "-ttl", "-1s"},
		{"register", "1", "2", "10.0.0.1", "80", "-check", "udp"},
		{"register", "1", "2", "10.0.0.1", "80", "-check", "https://x/"},
		{"register", "1", "2", "10.0.0.1", "80", "-interval", "1s"},
		{"register", "1", "2", "10.0.0.1", "80", "-check", "tcp", "-interval", "-1s"},
		{"register", "1", "2", "10.0.0.1", "80", "-wait", "-1s"},
		{"register", "1", "2", "10.0.0.1", "80", "-bogus"},
	} {
		code, _, errOut := larsctl(nil, args...)
		if code != exitUsage || !strings.Contains(errOut, "Usage: larsctl") {
			t.Errorf("larsctl %q: exit %d, stderr:\n%s", args, code, errOut)
		}
	}
}

func TestRegisterHelp(t *testing.T) {
	code, _, errOut := larsctl(nil, "-h")
	for _, want := range []string{"register MODID CMDID IP PORT", "-check", "-ttl", "SIGTERM"} {
		if code != 0 || !strings.Contains(errOut, want) {
			t.Errorf("-h does not mention %q", want)
		}
	}
	code, _, errOut = larsctl(nil, "register", "-h")
	if code != 0 || !strings.Contains(errOut, "-wait") || !strings.Contains(errOut, "Usage: larsctl [global flags] register") {
		t.Errorf("register -h: exit %d:\n%s", code, errOut)
	}
}
