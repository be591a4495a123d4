package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/internal/proctest"
)

// These tests run registration (issue 31) through the real binaries: an instance
// registered with `larsctl register` through the system's agent (A, on the first
// lars-dns), served by two other agents (B on the second lars-dns, C on the first),
// removed at once, after its TTL, or after its lease, never while it is renewed.

// regTTL is the registrations' TTL in these tests: short, so that expiries come soon;
// every bound below is a multiple of it plus eventLimit, never a tight window.
const regTTL = 2 * time.Second

// regKey is the service the tests register instances of: not in examples/routes.txt.
var regKey = routeKey{9001, 1}

// servingAgent is an agent that only serves: B or C. Business code asks it for the
// registered service's hosts (client), as it would before each call.
type servingAgent struct {
	admin  string
	d      *proctest.Daemon
	client *api.Client
}

// startServingAgent starts an agent on the route service dnsAddr.
func (s *system) startServingAgent(dnsAddr string) *servingAgent {
	s.t.Helper()
	a := &servingAgent{admin: proctest.FreeAddr(s.t)}
	var ports []string
	var udp []uint16
	for range 3 {
		p := proctest.FreePort(s.t, "udp")
		ports = append(ports, strconv.Itoa(p))
		udp = append(udp, uint16(p))
	}
	a.d = proctest.Start(s.t, "lars-agent", "-dns", dnsAddr, "-ports", strings.Join(ports, ","), "-admin", a.admin, "-log-level", "warn")
	a.d.WaitListening(s.t, a.admin, eventLimit)
	c, err := api.New(api.Config{Ports: udp, Timeout: time.Second})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	a.client = c
	return a
}

// hosts returns the hosts the agent serves for regKey, asked with get_route as
// business code asks: a key the agent does not hold (never asked, or dropped when its
// last host went) is pulled by the asking. Empty when it holds none of the key, nil
// when it does not answer.
func (a *servingAgent) hosts() []string {
	hosts, err := a.client.GetRoute(context.Background(), regKey.modid, regKey.cmdid, nil)
	if errors.Is(err, api.ErrNoExist) {
		return []string{} // none: the agent holds no host of the key
	}
	if err != nil {
		return nil // no answer
	}
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.String()
	}
	return out
}

// waitHeld waits until every agent holds (or, with held false, no longer holds) host
// for regKey, and returns how long that took.
func (s *system) waitHeld(host string, held bool, agents ...*servingAgent) time.Duration {
	s.t.Helper()
	start := time.Now()
	proctest.Eventually(s.t, eventLimit+2*regTTL, fmt.Sprintf("%s held=%v by every serving agent", host, held), func() (bool, string) {
		var state []string
		ok := true
		for _, a := range agents {
			hosts := a.hosts()
			if slices.Contains(hosts, host) != held {
				ok = false
			}
			state = append(state, fmt.Sprintf("%s: %v", a.admin, hosts))
		}
		return ok, strings.Join(state, "; ")
	})
	return time.Since(start)
}

// register starts `larsctl register` of instance host ("ip:port") through agent A, with
// more flags (-check ...), and waits until it says the instance is registered.
func (s *system) register(host string, more ...string) *proctest.Daemon {
	s.t.Helper()
	ip, port, _ := net.SplitHostPort(host)
	args := append([]string{"-ports", s.larsctlPorts(), "register", fmt.Sprint(regKey.modid), fmt.Sprint(regKey.cmdid), ip, port,
		"-ttl", regTTL.String()}, more...)
	d := proctest.Start(s.t, "larsctl", args...)
	return d
}

// historyOps counts the RouteHistory rows of regKey by op.
func (s *system) historyOps() map[string]int {
	s.t.Helper()
	out := s.larsctl("route", "history", fmt.Sprint(regKey.modid), fmt.Sprint(regKey.cmdid), "-n", "1000")
	ops := map[string]int{}
	re := regexp.MustCompile(`\s(register|deregister|expire|delete host)\s+` + fmt.Sprintf("%d/%d", regKey.modid, regKey.cmdid) + `\s`)
	for _, line := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			ops[m[1]]++
		}
	}
	return ops
}

// instanceAddr returns a loopback address no one listens on, as an instance's.
func instanceAddr(t *testing.T) string { return proctest.FreeAddr(t) }

func TestRegistration(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		s := startSystem(t, systemConfig{engine: e, dnsArgs: []string{"-allow-register"}})
		b := s.startServingAgent(s.dnsAddrs[1])
		c := s.startServingAgent(s.dnsAddrs[0])

		t.Run("sigterm deregisters at once", func(t *testing.T) {
			host := instanceAddr(t)
			reg := s.register(host)
			took := s.waitHeld(host, true, b, c)
			t.Logf("registered instance served by both agents after %v", took)
			before := s.historyOps()
			if code, _ := reg.Stop(t); code != 0 {
				t.Fatalf("larsctl register exit %d after SIGTERM:\n%s", code, reg.Output())
			}
			took = s.waitHeld(host, false, b, c)
			after := s.historyOps()
			t.Logf("deregistered instance gone from both agents %v after SIGTERM", took)
			if after["deregister"] != before["deregister"]+1 || after["expire"] != before["expire"] {
				t.Errorf("history ops %v before, %v after: want one deregister, no expiry", before, after)
			}
		})

		t.Run("sigkill of the registering process expires its registration at the agent", func(t *testing.T) {
			host := instanceAddr(t)
			reg := s.register(host)
			s.waitHeld(host, true, b, c)
			before := s.historyOps()
			reg.Kill()
			took := s.waitHeld(host, false, b, c)
			t.Logf("instance of a SIGKILLed process gone after %v (ttl %v)", took, regTTL)
			if took < regTTL/2 {
				t.Errorf("gone %v after SIGKILL: before the registration could have ended", took)
			}
			if after := s.historyOps(); after["deregister"] != before["deregister"]+1 {
				t.Errorf("history ops %v before, %v after: want the agent to deregister it", before, after)
			}
		})

		t.Run("sigkill of the agent expires the lease once, both route services push", func(t *testing.T) {
			host := instanceAddr(t)
			reg := s.register(host)
			s.waitHeld(host, true, b, c)
			before := s.historyOps()
			s.agent.Kill()
			took := s.waitHeld(host, false, b, c)
			t.Logf("instance of a SIGKILLed agent gone from agents on both route services after %v (ttl %v)", took, regTTL)
			if after := s.historyOps(); after["expire"] != before["expire"]+1 {
				t.Errorf("history ops %v before, %v after: want exactly one expiry", before, after)
			}

			// The agent restarted: the process still registering it is served again.
			s.startAgent()
			took = s.waitHeld(host, true, b, c)
			t.Logf("registered again %v after the agent restarted", took)
			reg.Stop(t)
			s.waitHeld(host, false, b, c)
		})

		t.Run("route service restarts and failover expire nothing", func(t *testing.T) {
			host := instanceAddr(t)
			// A lars-dns killed leaves in the store the end it last wrote, which may be
			// as near as a quarter of the ttl: the agent must register with the other
			// within it. 8 s leaves 2 s, for a machine busy with other work.
			reg := s.register(host, "-ttl", "8s")
			s.waitHeld(host, true, b, c)
			before := s.historyOps()
			var lost atomic.Int64
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() { // B's view while the route service of A and C restarts
				defer close(done)
				for {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					if hosts := b.hosts(); hosts != nil && !slices.Contains(hosts, host) {
						lost.Add(1)
					}
				}
			}()
			// The first lars-dns (A's) stopped: A fails over to the second; then the
			// second killed: A fails over back to the first.
			for i := range s.dns {
				if i == 0 {
					s.dns[i].Stop(t)
				} else {
					s.dns[i].Kill()
				}
				time.Sleep(10 * time.Second) // longer than the lease: only renewals keep it
				s.startDNS(i)
				time.Sleep(regTTL)
			}
			close(stop)
			<-done
			after := s.historyOps()
			if lost.Load() > 0 || after["expire"] != before["expire"] || after["deregister"] != before["deregister"] {
				t.Errorf("during restarts of a route service: B lost the instance %d times; history ops %v before, %v after",
					lost.Load(), before, after)
			}
			reg.Stop(t)
			s.waitHeld(host, false, b, c)
		})

		t.Run("a failing tcp check withdraws and restores", func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			host := ln.Addr().String()
			reg := s.register(host, "-check", "tcp", "-interval", "200ms")
			s.waitHeld(host, true, b, c)
			ln.Close()
			took := s.waitHeld(host, false, b, c)
			t.Logf("instance failing its tcp check withdrawn after %v", took)
			ln, err = net.Listen("tcp", host)
			if err != nil {
				t.Fatalf("cannot listen on %s again: %v", host, err)
			}
			defer ln.Close()
			took = s.waitHeld(host, true, b, c)
			t.Logf("instance passing its tcp check again restored after %v", took)
			reg.Stop(t)
		})

		t.Run("a failing http check withdraws and restores", func(t *testing.T) {
			var failing atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if failing.Load() {
					http.Error(w, "down", http.StatusInternalServerError)
				}
			}))
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			reg := s.register(host, "-check", srv.URL+"/health", "-interval", "200ms")
			s.waitHeld(host, true, b, c)
			failing.Store(true)
			took := s.waitHeld(host, false, b, c)
			t.Logf("instance failing its http check withdrawn after %v", took)
			failing.Store(false)
			took = s.waitHeld(host, true, b, c)
			t.Logf("instance passing its http check again restored after %v", took)
			reg.Stop(t)
		})
	})
}

// TestRegistrationRefused: a route service started without -allow-register (and with
// no policy) refuses every registration; larsctl register says why and fails.
func TestRegistrationRefused(t *testing.T) {
	s := startSystem(t, systemConfig{})
	code, out := proctest.Run(t, "larsctl", "-ports", s.larsctlPorts(), "register", fmt.Sprint(regKey.modid), fmt.Sprint(regKey.cmdid),
		"127.0.0.1", "9", "-ttl", regTTL.String())
	if code == 0 || !strings.Contains(out, "-allow-register") {
		t.Errorf("larsctl register against a route service without -allow-register: exit %d\n%s", code, out)
	}
}
