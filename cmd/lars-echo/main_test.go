package main

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/internal/waitfor"
)

func TestMain(m *testing.M) { proctest.Main(m) }

// patience bounds every wait for something a working lars-echo does (start, echo):
// never reached on a working build however busy the machine.
const patience = 30 * time.Second

// echoes reports whether the server on port returns a datagram unchanged, retrying
// while it starts, for up to patience. An echo slower than a try is read by a later
// one.
func echoes(t *testing.T, port int) bool {
	t.Helper()
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := []byte("ping " + strconv.Itoa(port))
	buf := make([]byte, 64)
	for giveUp := time.Now().Add(patience); time.Now().Before(giveUp); {
		c.Write(want)
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, err := c.Read(buf); err == nil {
			return bytes.Equal(buf[:n], want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// TestBinaryEchoesOnEveryPortAndStops runs lars-echo on three ports in each wait mode
// and checks every port echoes and SIGTERM ends it cleanly (exit 0, within the wait
// proctest.Daemon.Stop allows) while every serving thread waits.
func TestBinaryEchoesOnEveryPortAndStops(t *testing.T) {
	proctest.Build(t, "lars-echo")
	for _, mode := range []string{"block", "poll"} {
		t.Run(mode, func(t *testing.T) {
			var ports []string
			for len(ports) < 3 {
				p := strconv.Itoa(proctest.FreePort(t, "udp"))
				if !strings.Contains(","+strings.Join(ports, ",")+",", ","+p+",") {
					ports = append(ports, p)
				}
			}
			d := proctest.Start(t, "lars-echo", "-addr", "127.0.0.1:0", "-ports", strings.Join(ports, ","), "-sockets", "2", "-wait", mode)
			for _, p := range ports {
				port, _ := strconv.Atoi(p)
				if !echoes(t, port) {
					t.Fatalf("port %d does not echo", port)
				}
			}
			if mode == "block" {
				// Idle: every serving thread blocks in recvmmsg. (In poll mode the
				// serving goroutines park in the netpoller, which cannot be seen from
				// outside; one not parked yet stops the same way.)
				waitfor.ReadersBlocked(t, d.PID(), len(ports)*2, patience)
			}
			if code, took := d.Stop(t); code != 0 {
				t.Fatalf("exit code %d after %v, want 0", code, took)
			}
		})
	}
}

func TestBinaryBadFlagsExitTwo(t *testing.T) {
	proctest.Build(t, "lars-echo")
	for _, args := range [][]string{
		{"-wait", "spin"},
		{"-ports", "1,x"},
		{"-sockets", "0"},
		{"-addr", "nohostport", "-ports", "1"},
		{"extra"},
	} {
		if code, out := proctest.Run(t, "lars-echo", args...); code != 2 || !strings.Contains(out, "lars-echo:") {
			t.Errorf("%q: exit %d, output %q; want 2 and an error", args, code, out)
		}
	}
}
