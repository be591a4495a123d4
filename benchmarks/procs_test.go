package benchmarks

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// binDir holds the binaries built for this test process.
var binDir string

// servers started by this test process, stopped by TestMain.
var (
	serversMu sync.Mutex
	started   []*server
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "lars-bench")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binDir = dir
		code := m.Run()
		serversMu.Lock()
		for _, s := range started {
			s.stop()
		}
		serversMu.Unlock()
		return code
	}()
	os.Exit(code)
}

var buildOnce = sync.OnceValue(func() error {
	out, err := exec.Command("go", "build", "-o", binDir, "../cmd/lars-agent", "../cmd/lars-echo").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
})

// server is a lars-agent or lars-echo process serving one UDP port.
type server struct {
	name  string
	cmd   *exec.Cmd
	addr  string // UDP address
	admin string // admin base URL, agent only
}

// freePort returns a port of 127.0.0.1 free a moment ago for network ("udp" or "tcp").
func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// benchRoutes: key (1,1) has 10 hosts, key (2,2) 100 hosts, key (3,3) 1 host.
func benchRoutes() string {
	var b strings.Builder
	b.WriteString("# benchmark routes\n")
	for i := range 10 {
		fmt.Fprintf(&b, "1 1 10.0.0.%d 8000\n", i+1)
	}
	for i := range 100 {
		fmt.Fprintf(&b, "2 2 10.0.1.%d 8000\n", i+1)
	}
	b.WriteString("3 3 10.0.2.1 8000\n")
	return b.String()
}

// sockets is the number of serving sockets of each server: one, so that the client
// and the server each have one of the machine's two cores.
const sockets = "1"

var (
	agentOnce = sync.OnceValues(func() (*server, error) { return startServer("lars-agent") })
	echoOnce  = sync.OnceValues(func() (*server, error) { return startServer("lars-echo") })
)

func startServer(name string) (*server, error) {
	if err := buildOnce(); err != nil {
		return nil, err
	}
	port, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	s := &server{name: name, addr: fmt.Sprintf("127.0.0.1:%d", port)}
	var args []string
	switch name {
	case "lars-agent":
		routes := filepath.Join(binDir, "routes.txt")
		if err := os.WriteFile(routes, []byte(benchRoutes()), 0o644); err != nil {
			return nil, err
		}
		adminPort, err := freePort("tcp")
		if err != nil {
			return nil, err
		}
		s.admin = fmt.Sprintf("http://127.0.0.1:%d", adminPort)
		args = []string{"-routes", routes, "-ports", strconv.Itoa(port), "-sockets", sockets,
			"-admin", fmt.Sprintf("127.0.0.1:%d", adminPort), "-log-level", "warn"}
	case "lars-echo":
		args = []string{"-addr", s.addr, "-sockets", sockets}
	}
	s.cmd = exec.Command(filepath.Join(binDir, name), args...)
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	serversMu.Lock()
	started = append(started, s)
	serversMu.Unlock()
	if err := waitAnswering(s.addr); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

func (s *server) stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	}
}

// waitAnswering sends get_host datagrams until the server answers, for up to
// patience. An answer slower than a try is read by a later one.
func waitAnswering(addr string) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 2048)
	for giveUp := time.Now().Add(patience); time.Now().Before(giveUp); {
		c.Write(getHostFrame(1, 1, 1))
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Read(buf); err == nil {
			return nil
		}
		time.Sleep(time.Millisecond * 10)
	}
	return fmt.Errorf("no answer on %s", addr)
}

// cpuTime returns the process's user+system CPU time from /proc/<pid>/stat.
func (s *server) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat: %q", b)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on Linux.
const clockTicks = 100

// mallocs returns the agent's go_memstats_mallocs_total from its admin endpoint.
func (s *server) mallocs() (uint64, error) {
	if s.admin == "" {
		return 0, fmt.Errorf("%s has no admin endpoint", s.name)
	}
	resp, err := http.Get(s.admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_mallocs_total "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	io.Copy(io.Discard, resp.Body)
	return 0, fmt.Errorf("no go_memstats_mallocs_total in %s/metrics", s.admin)
}
