package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/internal/waitfor"
	"github.com/larsgo/lars/route"
)

// buildAgent compiles the binary once per test run.
var buildAgent = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "lars-agent-test")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "lars-agent")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &exec.ExitError{Stderr: out}
	}
	return bin, nil
})

// patience bounds every wait for something a working agent does (start, answer,
// reload, stop): never reached on a working build however busy the machine. The
// agents under test are also given it as their -shutdown-limit, so that a machine
// stalled for seconds while one stops does not turn a clean stop into exit 1.
const patience = 30 * time.Second

// freeUDPPort returns a UDP port of 127.0.0.1 that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func startBinary(t *testing.T, args ...string) (*exec.Cmd, *proctest.Buffer) {
	t.Helper()
	bin, err := buildAgent()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	cmd := exec.Command(bin, args...)
	var logs proctest.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, &logs
}

// getHost asks the agent on port for key (modid, cmdid), retrying while it starts,
// for up to patience. An answer slower than a try is read by a later one.
func getHost(t *testing.T, port int, modid, cmdid int32) *pb.GetHostResponse {
	t.Helper()
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	frame, _ := codec.AppendFrame(nil, codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: 7, Modid: modid, Cmdid: cmdid})
	buf := make([]byte, 2048)
	for giveUp := time.Now().Add(patience); time.Now().Before(giveUp); {
		c.Write(frame)
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := c.Read(buf)
		if err != nil { // not listening yet (refused) or slow: try again
			time.Sleep(20 * time.Millisecond)
			continue
		}
		_, body, r := codec.ParseDatagram(buf[:n])
		var m pb.GetHostResponse
		if r != codec.ReasonOK || m.UnmarshalVT(body) != nil {
			t.Fatalf("bad answer %x", buf[:n])
		}
		return &m
	}
	t.Fatalf("agent on port %d did not answer", port)
	return nil
}

func TestBinaryServesReloadsAndStops(t *testing.T) {
	dir := t.TempDir()
	routes := filepath.Join(dir, "routes.txt")
	os.WriteFile(routes, []byte("# demo\n1 1 127.0.0.1 7000\n"), 0o644)
	port := freeUDPPort(t)
	cmd, logs := startBinary(t, "-routes", routes, "-ports", strconv.Itoa(port), "-sockets", "1",
		"-shutdown-limit", patience.String())

	m := getHost(t, port, 1, 1)
	if m.Retcode != 0 || m.Host.GetPort() != 7000 {
		t.Fatalf("answer %v", m)
	}
	if m := getHost(t, port, 2, 2); m.Retcode != int32(codec.RetNoExist) {
		t.Fatalf("unknown key answered %v", m)
	}

	// A good reload adds key (2,2); a bad one keeps it.
	os.WriteFile(routes, []byte("1 1 127.0.0.1 7000\n2 2 127.0.0.1 7100\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(patience)
	for getHost(t, port, 2, 2).Retcode != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("reload not applied; logs:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	os.WriteFile(routes, []byte("1 1 127.0.0.1 notaport\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(patience)
	for !strings.Contains(logs.String(), "reload failed") {
		if time.Now().After(deadline) {
			t.Fatalf("bad reload not logged; logs:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m := getHost(t, port, 2, 2); m.Retcode != 0 {
		t.Fatalf("bad reload dropped the routes: %v", m)
	}

	// A clean stop: every goroutine ends within the shutdown limit (exit 0).
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; logs:\n%s", err, logs)
	}
}

func TestBinaryBadInputExitsTwo(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("1 1 127.0.0.1 7000\n\n1 x 127.0.0.1 7000\n"), 0o644)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bad routes file", []string{"-routes", bad}, "line 3"},
		{"missing routes file", []string{"-routes", filepath.Join(dir, "none")}, "cannot open routes file"},
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"bad ports", []string{"-ports", "88,x"}, "invalid -ports"},
		{"bad log format", []string{"-log-format", "xml"}, "invalid -log-format"},
		{"bad dns", []string{"-dns", "nohostport"}, "invalid -dns"},
		{"bad dns in a list", []string{"-dns", "127.0.0.1:7778,nohostport"}, `invalid -dns "127.0.0.1:7778,nohostport"`},
		{"empty dns list element", []string{"-dns", "127.0.0.1:7778,,127.0.0.1:7779"}, "invalid -dns"},
		{"trailing comma in dns", []string{"-dns", "127.0.0.1:7778,"}, "invalid -dns"},
		{"dns listed twice", []string{"-dns", "127.0.0.1:7778,127.0.0.1:7778"}, "listed twice"},
		{"empty dns", []string{"-dns", ""}, "invalid -dns"},
		{"bad listen", []string{"-listen", "not-an-ip", "-routes", bad}, ""},
		{"extra argument", []string{"extra"}, "unexpected argument"},
		{"bad wait mode", []string{"-wait", "spin", "-routes", bad}, "invalid -wait"},
		{"bad shutdown limit", []string{"-shutdown-limit", "0s"}, "invalid -shutdown-limit"},
		{"bad max keys", []string{"-max-keys", "0"}, "invalid -max-keys"},
		{"bad zone", []string{"-zone", "a b", "-routes", bad}, "invalid -zone"},
		{"bad slow start", []string{"-slow-start", "10ms", "-routes", bad}, "slow_start"},
		{"cache with a routes file", []string{"-routes", filepath.Join(dir, "none"), "-cache", filepath.Join(dir, "c")}, "-cache"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd, logs := startBinary(t, c.args...)
			err := cmd.Wait()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want code 2; stderr:\n%s", err, logs)
			}
			if !strings.Contains(logs.String(), c.want) {
				t.Fatalf("stderr lacks %q:\n%s", c.want, logs)
			}
			if strings.Contains(c.name, "dns") && strings.Count(logs.String(), "\n") != 1 {
				t.Fatalf("stderr is not one line:\n%s", logs)
			}
		})
	}
}

// TestBinaryDNSListFailsOver: -dns lists two route services; the first is down, the
// agent pulls from the second.
func TestBinaryDNSListFailsOver(t *testing.T) {
	first, second := larstest.NewRouteService(t), larstest.NewRouteService(t)
	first.Close()
	second.SetRoute(3, 3, route.FromWire(2130706433, 7300))
	port := freeUDPPort(t)
	cmd, logs := startBinary(t, "-dns", first.Addr()+","+second.Addr(), "-ports", strconv.Itoa(port), "-sockets", "1",
		"-shutdown-limit", patience.String())
	deadline := time.Now().Add(patience)
	for {
		m := getHost(t, port, 3, 3)
		if m.Retcode == 0 && m.Host.GetPort() == 7300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no route from the second route service: %v; logs:\n%s", m, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "addr="+second.Addr()) {
		t.Fatalf("logs do not name the address connected to:\n%s", logs)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; logs:\n%s", err, logs)
	}
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"-h"}, &out, nil); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"-config", "-routes", "-listen", "-ports", "-sockets", "-wait", "-dns", "-reporter", "-admin", "-shutdown-limit", "-log-format", "-tls-cert", "-tls-key", "-tls-ca", "-zone", "-slow-start", "-zone-min-usable"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("-h lacks %s", f)
		}
	}
}

// TestBinaryWaitModesStopOnSIGTERM serves in each wait mode, two sockets per port on
// three ports, and exits cleanly (every serving thread woken and stopped within the
// shutdown limit) on SIGTERM while idle.
func TestBinaryWaitModesStopOnSIGTERM(t *testing.T) {
	routes := filepath.Join(t.TempDir(), "routes.txt")
	os.WriteFile(routes, []byte("1 1 127.0.0.1 7000\n"), 0o644)
	for _, mode := range []string{"block", "poll"} {
		t.Run(mode, func(t *testing.T) {
			var ports []int
			for len(ports) < 3 {
				if p := freeUDPPort(t); !slices.Contains(ports, p) {
					ports = append(ports, p)
				}
			}
			list := strconv.Itoa(ports[0]) + "," + strconv.Itoa(ports[1]) + "," + strconv.Itoa(ports[2])
			cmd, logs := startBinary(t, "-routes", routes, "-ports", list, "-sockets", "2", "-wait", mode,
				"-shutdown-limit", patience.String())
			for _, p := range ports {
				if m := getHost(t, p, 1, 1); m.Retcode != 0 || m.Host.GetPort() != 7000 {
					t.Fatalf("port %d: answer %v", p, m)
				}
			}
			raised := strings.Contains(logs.String(), "gomaxprocs=7")
			if want := mode == "block" && os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < 7; raised != want {
				t.Errorf("GOMAXPROCS raised to 7 for 6 blocked sockets: %v, want %v; logs:\n%s", raised, want, logs)
			}
			if mode == "block" {
				// Idle: every serving thread blocks in recvmmsg. (In poll mode the
				// serving goroutines park in the netpoller, which cannot be seen from
				// outside; one not parked yet stops the same way.)
				waitfor.ReadersBlocked(t, cmd.Process.Pid, len(ports)*2, patience)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit after SIGTERM: %v; logs:\n%s", err, logs)
			}
		})
	}
}

// TestShutdownLimitFlag: a stop signal leaves the agent 2 s unless -shutdown-limit
// says otherwise.
func TestShutdownLimitFlag(t *testing.T) {
	for args, want := range map[string]time.Duration{"": 2 * time.Second, "-shutdown-limit 30s": 30 * time.Second} {
		o, _, err := parseFlags(strings.Fields(args), io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if o.shutdownLimit != want {
			t.Errorf("%q: shutdown limit %v, want %v", args, o.shutdownLimit, want)
		}
	}
}

// TestMaxKeysFlag: -max-keys bounds the keys created on demand, over the INI file's
// max_keys; without either the table's default holds (MaxKeys 0).
func TestMaxKeysFlag(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "agent.ini")
	if err := os.WriteFile(ini, []byte("[loadbalance]\nmax_keys = 700\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for args, want := range map[string]int{
		"":                                0,
		"-max-keys 5000":                  5000,
		"-config " + ini:                  700,
		"-config " + ini + " -max-keys 9": 9,
	} {
		o, fs, err := parseFlags(strings.Fields(args), io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		cfg, _, err := buildConfig(o, fs, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if cfg.Table.MaxKeys != want {
			t.Errorf("%q: MaxKeys %d, want %d", args, cfg.Table.MaxKeys, want)
		}
	}
}

// TestUnknownKeyFlags: the bounds on unknown keys and -allow-remote-get-route go into
// the agent's config over the INI file's keys; unset, the defaults of agent and lb hold.
func TestUnknownKeyFlags(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "agent.ini")
	if err := os.WriteFile(ini, []byte("[loadbalance]\nmax_no_route_keys = 70\nunknown_key_rate = 30\nallow_remote_get_route = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	type want struct {
		noRoute, rate, sources int
		ttl                    time.Duration
		remote                 bool
	}
	for args, w := range map[string]want{
		"": {},
		"-max-no-route-keys 5 -unknown-key-rate -1 -unknown-key-sources 9 -no-answer-ttl 3s -allow-remote-get-route": {5, -1, 9, 3 * time.Second, true},
		"-config " + ini: {70, 30, 0, 0, true},
		"-config " + ini + " -unknown-key-rate 7 -allow-remote-get-route=false": {70, 7, 0, 0, false},
	} {
		o, fs, err := parseFlags(strings.Fields(args), io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		cfg, _, err := buildConfig(o, fs, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		got := want{cfg.Table.MaxNoRouteKeys, cfg.UnknownKeyRate, cfg.UnknownKeySources, cfg.Table.NoAnswerTTL, cfg.AllowRemoteGetRoute}
		if got != w {
			t.Errorf("%q: %+v, want %+v", args, got, w)
		}
	}
	for _, bad := range []string{"-max-no-route-keys 0", "-unknown-key-rate 0", "-unknown-key-sources 0", "-no-answer-ttl 0s"} {
		o, fs, err := parseFlags(strings.Fields(bad), io.Discard)
		if err == nil {
			_, _, err = buildConfig(o, fs, io.Discard)
		}
		if err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestGroupReadableFlag: -group-readable makes the route cache 0640; without it the
// agent writes it 0600.
func TestGroupReadableFlag(t *testing.T) {
	for args, want := range map[string]bool{"": false, "-group-readable": true} {
		o, fs, err := parseFlags(strings.Fields(args), io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		cfg, _, err := buildConfig(o, fs, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if cfg.CacheGroupReadable != want {
			t.Errorf("%q: CacheGroupReadable %v, want %v", args, cfg.CacheGroupReadable, want)
		}
	}
}

// TestZoneFlags: -zone, -slow-start and -zone-min-usable go into the table's config
// over the INI file's [loadbalance] zone, slow_start and zone_min_usable; a bad zone or
// share is refused.
func TestZoneFlags(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "agent.ini")
	if err := os.WriteFile(ini, []byte("[loadbalance]\nzone = eu-1a\nslow_start = 30\nzone_min_usable = 70\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	type want struct {
		zone      string
		slowStart time.Duration
		minUsable int
	}
	for args, w := range map[string]want{
		"":               {},
		"-zone us-2b":    {"us-2b", 0, 0},
		"-config " + ini: {"eu-1a", 30 * time.Second, 70},
		"-config " + ini + " -zone us-2b -slow-start 1m -zone-min-usable 20": {"us-2b", time.Minute, 20},
		"-config " + ini + " -zone=":                                         {"", 30 * time.Second, 70},
	} {
		o, fs, err := parseFlags(strings.Fields(args), io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		cfg, _, err := buildConfig(o, fs, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		got := want{cfg.Table.Zone, cfg.Table.Policies.SlowStart, cfg.Table.Policies.ZoneMinUsable}
		if got != w {
			t.Errorf("%q: %+v, want %+v", args, got, w)
		}
	}
	for _, bad := range []string{"-zone a/b", "-zone-min-usable 0", "-zone-min-usable 101"} {
		o, fs, err := parseFlags(strings.Fields(bad), io.Discard)
		if err == nil {
			_, _, err = buildConfig(o, fs, io.Discard)
		}
		if err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
