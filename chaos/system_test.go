package chaos

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/proctest"
)

// envChaos must be 1 for the fault tests to run: they take tens of seconds and kill
// processes (`make chaos` sets it).
const envChaos = "LARS_CHAOS"

func TestMain(m *testing.M) { proctest.Main(m) }

// requireChaos skips t unless the fault tests were asked for.
func requireChaos(t *testing.T) {
	t.Helper()
	if os.Getenv(envChaos) != "1" {
		t.Skip(envChaos + " is not 1: the fault tests run with make chaos")
	}
}

// system is the whole Lars system on loopback: two route services, a report service
// and an agent, on one SQLite route store with the bundled routes.
type system struct {
	t        *testing.T
	dir      string
	db       string
	dnsAddrs []string
	dnsAdmin []string
	dns      []*proctest.Daemon
	repAddr  string
	repAdmin string
	reporter *proctest.Daemon
	agent    *proctest.Daemon
	ports    []int
	admin    string
	cache    string
}

// startSystem builds the binaries, imports examples/routes.txt and starts every part.
func startSystem(t *testing.T) *system {
	t.Helper()
	proctest.Build(t, "lars-dns", "lars-reporter", "lars-agent", "larsctl")
	s := &system{t: t, dir: t.TempDir()}
	s.db = "sqlite:" + filepath.Join(s.dir, "lars.db")
	s.cache = filepath.Join(s.dir, "routes.cache")
	if code, out := proctest.Run(t, "larsctl", "-db", s.db, "route", "import", "../examples/routes.txt"); code != 0 {
		t.Fatalf("route import: exit %d: %s", code, out)
	}
	s.dnsAddrs = []string{proctest.FreeAddr(t), proctest.FreeAddr(t)}
	s.dnsAdmin = []string{proctest.FreeAddr(t), proctest.FreeAddr(t)}
	s.dns = make([]*proctest.Daemon, 2)
	for i := range s.dns {
		s.startDNS(i)
	}
	s.repAddr, s.repAdmin = proctest.FreeAddr(t), proctest.FreeAddr(t)
	s.startReporter()
	s.ports = []int{proctest.FreePort(t, "udp"), proctest.FreePort(t, "udp"), proctest.FreePort(t, "udp")}
	s.admin = proctest.FreeAddr(t)
	s.startAgent()
	return s
}

func (s *system) startDNS(i int) {
	s.dns[i] = proctest.Start(s.t, "lars-dns", "-db", s.db, "-listen", s.dnsAddrs[i], "-admin", s.dnsAdmin[i],
		"-max-conns", strconv.Itoa(dnsMaxConns), "-poll", "100ms", "-log-level", "warn")
	s.dns[i].WaitListening(s.t, s.dnsAddrs[i], 20*time.Second)
}

func (s *system) startReporter() {
	s.reporter = proctest.Start(s.t, "lars-reporter", "-db", s.db, "-listen", s.repAddr, "-admin", s.repAdmin, "-log-level", "warn")
	s.reporter.WaitListening(s.t, s.repAddr, 20*time.Second)
}

func (s *system) startAgent() {
	ports := make([]string, len(s.ports))
	for i, p := range s.ports {
		ports[i] = strconv.Itoa(p)
	}
	s.agent = proctest.Start(s.t, "lars-agent", "-dns", strings.Join(s.dnsAddrs, ","), "-reporter", s.repAddr,
		"-ports", strings.Join(ports, ","), "-admin", s.admin, "-cache", s.cache, "-log-level", "warn")
	s.agent.WaitListening(s.t, s.admin, 20*time.Second)
}

// agentHosts returns the hosts ("ip:port") the agent holds for the key, from /routes.
func (s *system) agentHosts(modid, cmdid int32) []string {
	resp, err := http.Get("http://" + s.admin + "/routes")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var routes []struct {
		Modid, Cmdid int32
		Hosts        []struct{ Addr string }
	}
	if json.NewDecoder(resp.Body).Decode(&routes) != nil {
		return nil
	}
	for _, r := range routes {
		if r.Modid == modid && r.Cmdid == cmdid {
			out := make([]string, len(r.Hosts))
			for i, h := range r.Hosts {
				out[i] = h.Addr
			}
			return out
		}
	}
	return nil
}

// waitAgentHost waits until the agent holds host for the key and returns how long it
// took, failing after within.
func (s *system) waitAgentHost(modid, cmdid int32, host string, within time.Duration) time.Duration {
	s.t.Helper()
	start := time.Now()
	for {
		for _, h := range s.agentHosts(modid, cmdid) {
			if h == host {
				return time.Since(start)
			}
		}
		if time.Since(start) > within {
			s.t.Fatalf("the agent does not hold %s for %d/%d after %v: %v", host, modid, cmdid, within, s.agentHosts(modid, cmdid))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dnsMaxConns is each lars-dns's -max-conns in these tests.
const dnsMaxConns = 2000

// metric returns the value of the agent's metric line that starts with name.
func (s *system) metric(name string) float64 { return metricAt(s.admin, name) }

// metricSum returns the sum of the metric lines that start with prefix on the admin
// endpoint at addr (every label of one metric, say).
func metricSum(addr, prefix string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			_, v, _ := strings.Cut(sc.Text(), " ")
			f, _ := strconv.ParseFloat(v, 64)
			sum += f
		}
	}
	return sum
}

// metricAt returns the value of the metric line that starts with name on the admin
// endpoint at addr; -1 when there is none.
func metricAt(addr, name string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// routeAdd adds a host to a key in the store, as an operator would.
func (s *system) routeAdd(modid, cmdid int32, ip string, port int) {
	s.t.Helper()
	if code, out := proctest.Run(s.t, "larsctl", "-db", s.db, "route", "add", fmt.Sprint(modid), fmt.Sprint(cmdid), ip, fmt.Sprint(port)); code != 0 {
		s.t.Fatalf("route add: exit %d: %s", code, out)
	}
}

// agentArgs is the -ports value of larsctl for the agent.
func (s *system) larsctlPorts() string {
	ports := make([]string, len(s.ports))
	for i, p := range s.ports {
		ports[i] = strconv.Itoa(p)
	}
	return strings.Join(ports, ",")
}
