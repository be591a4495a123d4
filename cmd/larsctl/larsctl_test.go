package main

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/api/apitest"
	"github.com/larsgo/lars/codec"
)

// fake starts a fake agent, stopped when the test ends.
func fake(t *testing.T) *apitest.Agent {
	t.Helper()
	a, err := apitest.Start(3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// portsFlag returns the -ports value for ports.
func portsFlag(ports []uint16) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ",")
}

// answerLimit is the -timeout of the commands run against an agent that answers: each
// answer is waited for that long, generously, so that only a missing answer reaches it,
// never a busy machine.
const answerLimit = "30s"

// waitLimit bounds each wait for datagrams to reach the fake agent.
const waitLimit = 30 * time.Second

// larsctl runs the command against agent a (nil: args as given) and returns its exit
// code, stdout and stderr.
func larsctl(a *apitest.Agent, args ...string) (int, string, string) {
	if a != nil {
		args = append([]string{"-ports", portsFlag(a.Ports()), "-timeout", answerLimit}, args...)
	}
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func host(s string) api.Host {
	h, err := api.ParseHost(s)
	if err != nil {
		panic(err)
	}
	return h
}

// check fails the test unless the exit code is want, stdout is wantOut (when not "-")
// and stderr is one line exactly when the code is neither 0 nor 2.
func check(t *testing.T, code int, out, errOut string, want int, wantOut string) {
	t.Helper()
	if code != want {
		t.Errorf("exit code %d, want %d; stderr:\n%s", code, want, errOut)
	}
	if wantOut != "-" && out != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, wantOut)
	}
	if want != 0 && want != exitUsage && strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr is not one line:\n%s", errOut)
	}
}

func TestGetHost(t *testing.T) {
	a := fake(t)
	a.SetRoute(1, 2, host("10.0.0.1:8080"))
	code, out, errOut := larsctl(a, "get-host", "1", "2")
	check(t, code, out, errOut, 0, "10.0.0.1:8080\n")
	if n := a.Count(codec.MsgAPIGetRouteRequest); n != 1 {
		t.Errorf("%d get_route requests for reg_init, want 1", n)
	}
	code, out, errOut = larsctl(a, "-reg=false", "get-host", "1", "2")
	check(t, code, out, errOut, 0, "10.0.0.1:8080\n")
	if n := a.Count(codec.MsgAPIGetRouteRequest); n != 1 {
		t.Errorf("-reg=false pulled the route")
	}
}

func TestGetHostErrors(t *testing.T) {
	a := fake(t)
	for modid, retcode := range map[int32]int32{1: 1, 2: 2, 3: 3} {
		a.SetRoute(modid, 1, host("10.0.0.1:1"))
		a.SetRetcode(modid, 1, retcode)
	}
	f := func(want int, args ...string) {
		t.Helper()
		code, out, errOut := larsctl(a, args...)
		check(t, code, out, errOut, want, "")
	}
	f(exitOverload, "get-host", "1", "1")
	f(exitSystem, "get-host", "2", "1")
	f(exitNoExist, "get-host", "3", "1")
	f(exitNoExist, "get-host", "4", "1") // no route: reg_init gives up, get_host says noexist
}

func TestAgentDown(t *testing.T) {
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	closed, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.LocalAddr().(*net.UDPAddr).Port
	closed.Close()

	// A silent agent: the timeout is the behaviour under test.
	port := fmt.Sprint(silent.LocalAddr().(*net.UDPAddr).Port)
	code, out, errOut := larsctl(nil, "-ports", port, "-timeout", "20ms", "get-host", "1", "1")
	check(t, code, out, errOut, exitTimeout, "")
	code, out, errOut = larsctl(nil, "-ports", port, "-timeout", "20ms", "-reg=false", "get-route", "1", "1")
	check(t, code, out, errOut, exitTimeout, "")

	// No agent at all: the refusal (ICMP) is reported as such, not as a timeout.
	port = fmt.Sprint(closedPort)
	for _, args := range [][]string{{"get-host", "1", "1"}, {"get-route", "1", "1"}, {"simulate", "-n", "3", "1", "1"}} {
		code, out, errOut = larsctl(nil, append([]string{"-ports", port, "-timeout", "10s"}, args...)...)
		check(t, code, out, errOut, exitUnreachable, "-")
	}
}

func TestGetRoute(t *testing.T) {
	a := fake(t)
	a.SetRoute(5, 6, host("10.0.0.2:80"), host("192.168.1.1:80"), host("10.0.0.1:81"), host("10.0.0.1:80"))
	code, out, errOut := larsctl(a, "get-route", "5", "6")
	check(t, code, out, errOut, 0, "10.0.0.1:80\n10.0.0.1:81\n10.0.0.2:80\n192.168.1.1:80\n4 hosts\n")
	code, out, errOut = larsctl(a, "-reg=false", "get-route", "5", "7")
	check(t, code, out, errOut, exitNoExist, "0 hosts\n")
}

func TestReport(t *testing.T) {
	a := fake(t)
	for i, result := range []string{"0", "1"} {
		code, out, errOut := larsctl(a, "report", "7", "8", "192.168.1.1", "9000", result)
		check(t, code, out, errOut, 0, "")
		if !a.WaitCount(codec.MsgReportRequest, uint64(i+1), waitLimit) {
			t.Fatal("report did not arrive")
		}
	}
	want := []apitest.Request{
		{Port: a.Ports()[0], MsgID: codec.MsgReportRequest, Modid: 7, Cmdid: 8, Host: host("192.168.1.1:9000"), Retcode: 0},
		{Port: a.Ports()[0], MsgID: codec.MsgReportRequest, Modid: 7, Cmdid: 8, Host: host("192.168.1.1:9000"), Retcode: 1},
	}
	got := a.Reports()
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("reports %+v, want %+v", got, want)
	}
}

func TestSimulate(t *testing.T) {
	a := fake(t)
	h1, h2 := host("10.0.0.1:80"), host("10.0.0.2:80")
	a.SetRoute(1, 1, h1, h2)

	t.Run("all succeed", func(t *testing.T) {
		code, out, errOut := larsctl(a, "simulate", "1", "1", "-n", "10", "-err-rate", "0")
		check(t, code, out, errOut, 0,
			"host 10.0.0.1:80 succ 5 err 0\nhost 10.0.0.2:80 succ 5 err 0\noverload 0\nnoexist 0\ntimeout 0\nerror 0\n")
		if !a.WaitCount(codec.MsgReportRequest, 10, waitLimit) {
			t.Fatal("reports did not arrive")
		}
		for _, r := range a.Reports() {
			if r.Retcode != 0 || (r.Host != h1 && r.Host != h2) {
				t.Errorf("report %+v", r)
			}
		}
	})
	t.Run("all fail", func(t *testing.T) {
		code, out, errOut := larsctl(a, "simulate", "-err-rate", "1", "-n", "4", "1", "1")
		check(t, code, out, errOut, 0,
			"host 10.0.0.1:80 succ 0 err 2\nhost 10.0.0.2:80 succ 0 err 2\noverload 0\nnoexist 0\ntimeout 0\nerror 0\n")
		if !a.WaitCount(codec.MsgReportRequest, 14, waitLimit) {
			t.Fatal("reports did not arrive")
		}
	})
	t.Run("some overloaded", func(t *testing.T) {
		a.SetRetcodeFunc(func(modid, cmdid int32, n int) int32 {
			if n%4 == 3 { // one call in four
				return 1
			}
			return 0
		})
		defer a.SetRetcodeFunc(nil)
		code, out, errOut := larsctl(a, "simulate", "-n", "40", "-seed", "7", "1", "1")
		check(t, code, out, errOut, 0, "-")
		var succ, fail, total int
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var hs string
			var s, e int
			if n, _ := fmt.Sscanf(line, "host %s succ %d err %d", &hs, &s, &e); n == 3 {
				succ, fail, total = succ+s, fail+e, total+s+e
			}
		}
		if total != 30 || !strings.Contains(out, "overload 10\nnoexist 0\n") {
			t.Errorf("counts:\n%s\nwant 30 calls with a host and 10 overloaded", out)
		}
		if fail == 0 || succ == 0 {
			t.Errorf("err-rate 0.2 over 30 calls gave %d successes and %d failures", succ, fail)
		}
	})
	t.Run("no route", func(t *testing.T) {
		code, out, errOut := larsctl(a, "-reg=false", "simulate", "-n", "3", "9", "9")
		check(t, code, out, errOut, 0, "overload 0\nnoexist 3\ntimeout 0\nerror 0\n")
	})
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"-nosuchflag", "get-host", "1", "1"},
		{"-ports", "88,x", "get-host", "1", "1"},
		{"-ports", "0", "get-host", "1", "1"},
		{"-agent", "nowhere", "get-host", "1", "1"},
		{"-timeout", "0s", "get-host", "1", "1"},
		{"get-host", "1"},
		{"get-host", "1", "2", "3"},
		{"get-host", "x", "1"},
		{"get-route", "1", "99999999999"},
		{"report", "1", "1", "10.0.0.1", "80"},
		{"report", "1", "1", "10.0.0.1", "80", "2"},
		{"report", "1", "1", "fe80::1%eth0", "80", "0"},
		{"report", "1", "1", "10.0.0.1", "65536", "0"},
		{"simulate", "1", "1", "-err-rate", "1.5"},
		{"simulate", "1", "1", "-n", "-1"},
		{"simulate", "1", "1", "-bogus"},
	} {
		code, _, errOut := larsctl(nil, args...)
		if code != exitUsage || !strings.Contains(errOut, "Usage: larsctl") {
			t.Errorf("larsctl %q: exit %d, stderr:\n%s", args, code, errOut)
		}
	}
}

func TestHelp(t *testing.T) {
	code, out, errOut := larsctl(nil, "-h")
	if code != 0 || out != "" {
		t.Fatalf("-h: exit %d, stdout %q", code, out)
	}
	for _, want := range []string{"-agent", "-ports", "-timeout", "-reg", "get-host", "get-route",
		"report", "simulate", "-err-rate", "-n int", "-seed", "-interval", "Exit codes"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("-h does not mention %q", want)
		}
	}
	code, _, errOut = larsctl(nil, "simulate", "-h")
	if code != 0 || !strings.Contains(errOut, "-err-rate") {
		t.Errorf("simulate -h: exit %d:\n%s", code, errOut)
	}
}
