package chaos

import (
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

// envChaos must be 1 for the fault tests to run: they take minutes, kill processes and
// stop the MariaDB server LARS_TEST_MYSQL_CTL controls (`make chaos` sets it; run them
// when nothing else uses that server).
const envChaos = "LARS_CHAOS"

func TestMain(m *testing.M) { proctest.Main(m) }

// requireChaos skips t unless the fault tests were asked for.
func requireChaos(t *testing.T) {
	t.Helper()
	if os.Getenv(envChaos) != "1" {
		t.Skip(envChaos + " is not 1: the fault tests run with make chaos")
	}
}

// eventLimit bounds each wait for something the system must do (a process listening,
// a route change reaching the agent, a counter moving): generous, so that only a
// broken build reaches it, never a machine busy with other work.
const eventLimit = 30 * time.Second

// system is the whole Lars system on loopback: two route services, a report service
// and an agent, on one route store with the bundled routes.
type system struct {
	t        *testing.T
	engine   engine
	dir      string
	db       string // the store's DSN
	agentINI string // the agent's -config file; empty: none
	dnsAddrs []string
	dnsAdmin []string
	dns      []*proctest.Daemon
	dnsArgs  []string
	repAddr  string
	repAdmin string
	reporter *proctest.Daemon
	agent    *proctest.Daemon
	ports    []int
	admin    string
	cache    string
}

// systemConfig says how startSystem sets the system up. Its zero value is the system on
// SQLite with the agent's default settings.
type systemConfig struct {
	// engine is the route store's engine. Default sqliteEngine.
	engine engine
	// agentINI, when not empty, is the content of the agent's -config file, such as a
	// [loadbalance] section.
	agentINI string
	// dnsArgs are more flags for every lars-dns, such as -allow-register.
	dnsArgs []string
}

// startSystem builds the binaries, imports examples/routes.txt into a fresh store and
// starts every part.
func startSystem(t *testing.T, cfg systemConfig) *system {
	t.Helper()
	proctest.Build(t, "lars-dns", "lars-reporter", "lars-agent", "larsctl")
	if cfg.engine.name == "" {
		cfg.engine = sqliteEngine
	}
	s := &system{t: t, engine: cfg.engine, dir: t.TempDir(), dnsArgs: cfg.dnsArgs}
	s.db = cfg.engine.newStore(t, s.dir)
	s.cache = filepath.Join(s.dir, "routes.cache")
	if cfg.agentINI != "" {
		s.agentINI = filepath.Join(s.dir, "agent.ini")
		if err := os.WriteFile(s.agentINI, []byte(cfg.agentINI), 0o644); err != nil {
			t.Fatal(err)
		}
	}
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
	args := []string{"-db", s.db, "-listen", s.dnsAddrs[i], "-admin", s.dnsAdmin[i],
		"-max-conns", strconv.Itoa(dnsMaxConns), "-poll", "100ms", "-log-level", "warn"}
	s.dns[i] = proctest.Start(s.t, "lars-dns", append(args, s.dnsArgs...)...)
	s.dns[i].WaitListening(s.t, s.dnsAddrs[i], eventLimit)
}

func (s *system) startReporter() {
	s.reporter = proctest.Start(s.t, "lars-reporter", "-db", s.db, "-listen", s.repAddr, "-admin", s.repAdmin, "-log-level", "warn")
	s.reporter.WaitListening(s.t, s.repAddr, eventLimit)
}

func (s *system) startAgent() {
	ports := make([]string, len(s.ports))
	for i, p := range s.ports {
		ports[i] = strconv.Itoa(p)
	}
	args := []string{"-dns", strings.Join(s.dnsAddrs, ","), "-reporter", s.repAddr,
		"-ports", strings.Join(ports, ","), "-admin", s.admin, "-cache", s.cache, "-log-level", "warn"}
	if s.agentINI != "" {
		args = append(args, "-config", s.agentINI)
	}
	s.agent = proctest.Start(s.t, "lars-agent", args...)
	s.agent.WaitListening(s.t, s.admin, eventLimit)
}

// agentHosts returns the hosts ("ip:port") the agent holds for the key, from /routes.
func (s *system) agentHosts(modid, cmdid int32) []string {
	routes, err := s.agentRoutes()
	if err != nil {
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
// took, failing after eventLimit.
func (s *system) waitAgentHost(modid, cmdid int32, host string) time.Duration {
	s.t.Helper()
	start := time.Now()
	for {
		for _, h := range s.agentHosts(modid, cmdid) {
			if h == host {
				return time.Since(start)
			}
		}
		if time.Since(start) > eventLimit {
			s.t.Fatalf("the agent does not hold %s for %d/%d after %v: %v", host, modid, cmdid, eventLimit, s.agentHosts(modid, cmdid))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dnsMaxConns is each lars-dns's -max-conns in these tests.
const dnsMaxConns = 2000

// metric returns the value of the agent's metric line that starts with name.
func (s *system) metric(name string) float64 { return metricAt(s.admin, name) }

// metricSum returns the sum of the series whose name (with labels) starts with prefix
// on the admin endpoint at addr (every label of one metric, say); -1 when it cannot be
// read.
func metricSum(addr, prefix string) float64 {
	series, err := proctest.Scrape(addr)
	if err != nil {
		return -1
	}
	sum := 0.0
	for name, v := range series {
		if strings.HasPrefix(name, prefix) {
			sum += v
		}
	}
	return sum
}

// metricAt returns the value of the series name (with its labels, if any) on the admin
// endpoint at addr; -1 when there is none or it cannot be read.
func metricAt(addr, name string) float64 {
	series, err := proctest.Scrape(addr)
	if err != nil {
		return -1
	}
	if v, ok := series[name]; ok {
		return v
	}
	return -1
}

// mustMetricAt is metricAt failing the test when the series cannot be read.
func (s *system) mustMetricAt(addr, name string) float64 {
	s.t.Helper()
	v := metricAt(addr, name)
	if v < 0 {
		s.t.Fatalf("cannot read %s from %s/metrics", name, addr)
	}
	return v
}

// routeAdd adds a host to a key in the store, as an operator would.
func (s *system) routeAdd(modid, cmdid int32, ip string, port int) {
	s.t.Helper()
	if code, out := proctest.Run(s.t, "larsctl", "-db", s.db, "route", "add", fmt.Sprint(modid), fmt.Sprint(cmdid), ip, fmt.Sprint(port)); code != 0 {
		s.t.Fatalf("route add: exit %d: %s", code, out)
	}
}

// larsctlPorts is the -ports value of larsctl for the agent.
func (s *system) larsctlPorts() string {
	ports := make([]string, len(s.ports))
	for i, p := range s.ports {
		ports[i] = strconv.Itoa(p)
	}
	return strings.Join(ports, ",")
}

// httpClient bounds every request the tests make to an admin endpoint, generously: a
// process of a busy machine may answer seconds late.
var httpClient = &http.Client{Timeout: eventLimit}

// getJSON decodes the JSON document at url into v.
func getJSON(url string, v any) error {
	resp, err := httpClient.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}
