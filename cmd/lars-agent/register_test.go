package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/larsgo/lars/agent"
)

// TestRegisterFlags: -max-registrations and -allow-remote-register go into the
// agent's config over [register]'s keys.
func TestRegisterFlags(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "agent.ini")
	if err := os.WriteFile(ini, []byte("[register]\nmax_registrations = 70\nallow_remote = true\ninstance = 1 2 10.0.0.5 80 check=tcp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for args, want := range map[string]struct {
		max    int
		remote bool
		regs   int
	}{
		"": {0, false, 0},
		"-max-registrations 5 -allow-remote-register": {5, true, 0},
		"-config " + ini: {70, true, 1},
		"-config " + ini + " -max-registrations 9 -allow-remote-register=false": {9, false, 1},
	} {
		o, fs, err := parseFlags(strings.Fields(args), io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		cfg, _, err := buildConfig(o, fs, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if cfg.MaxRegistrations != want.max || cfg.AllowRemoteRegister != want.remote || len(cfg.Registrations) != want.regs {
			t.Errorf("%q: max %d remote %v registrations %d, want %+v", args, cfg.MaxRegistrations, cfg.AllowRemoteRegister,
				len(cfg.Registrations), want)
		}
	}
	o, fs, _ := parseFlags([]string{"-max-registrations", "0"}, io.Discard)
	if _, _, err := buildConfig(o, fs, io.Discard); err == nil {
		t.Fatal("-max-registrations 0 taken")
	}
}

// freeTCPAddr returns an address of 127.0.0.1 whose TCP port was free a moment ago.
func freeTCPAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestBinaryReloadsRegistrations: SIGHUP applies the [register] lines of -config
// added and removed; a bad file keeps the registrations in force, logged.
func TestBinaryReloadsRegistrations(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "agent.ini")
	write := func(lines ...string) {
		body := fmt.Sprintf("[dnsserver]\nip = 127.0.0.1\nport = %s\n[register]\n", strings.TrimPrefix(freeTCPAddr(t), "127.0.0.1:"))
		for _, l := range lines {
			body += "instance = " + l + "\n"
		}
		if err := os.WriteFile(ini, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("31 1 127.0.0.1 9000", "31 1 127.0.0.1 9001 check=tcp")
	admin := freeTCPAddr(t)
	cmd, logs := startBinary(t, "-config", ini, "-ports", strconv.Itoa(freeUDPPort(t)), "-sockets", "1",
		"-admin", admin, "-shutdown-limit", patience.String())
	list := func() []agent.RegistrationInfo {
		resp, err := http.Get("http://" + admin + "/registrations")
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var l []agent.RegistrationInfo
		if json.NewDecoder(resp.Body).Decode(&l) != nil {
			return nil
		}
		return l
	}
	waitList := func(what string, cond func([]agent.RegistrationInfo) bool) {
		t.Helper()
		deadline := time.Now().Add(patience)
		for !cond(list()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: /registrations %+v; logs:\n%s", what, list(), logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitList("two at start", func(l []agent.RegistrationInfo) bool {
		return len(l) == 2 && l[0].Source == "ini" && l[1].Check == "tcp"
	})
	write("31 1 127.0.0.1 9001", "31 2 127.0.0.1 9002 ttl=30s")
	cmd.Process.Signal(syscall.SIGHUP)
	waitList("reloaded", func(l []agent.RegistrationInfo) bool {
		return len(l) == 2 && l[0].Addr == "127.0.0.1:9001" && l[1].Cmdid == 2 && l[1].TTL == 30
	})
	write("31 1 127.0.0.1 notaport")
	cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(patience)
	for !strings.Contains(logs.String(), "[register] not reloaded") {
		if time.Now().After(deadline) {
			t.Fatalf("bad reload not logged; logs:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if l := list(); len(l) != 2 {
		t.Fatalf("a bad reload changed the registrations: %+v", l)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v; logs:\n%s", err, logs)
	}
}
