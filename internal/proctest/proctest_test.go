package proctest

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envRole makes the test binary act as a daemon or a command for the tests below.
const envRole = "PROCTEST_ROLE"

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "daemon": // listen on the address in argv[1], exit 3 on SIGTERM
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		ln, err := net.Listen("tcp", os.Args[1])
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("listening")
		<-sig
		ln.Close()
		os.Exit(3)
	case "command": // print the arguments, exit with the first
		fmt.Println(strings.Join(os.Args[1:], " "))
		var code int
		fmt.Sscan(os.Args[1], &code)
		os.Exit(code)
	}
	Main(m)
}

// waitLimit bounds each wait of these tests for something that must happen: generous,
// so that only a broken build reaches it, never a busy machine.
const waitLimit = 30 * time.Second

// TestDaemonStartsAndStopsOnSIGTERM: the daemon's exit code is the one it chose on
// SIGTERM (Stop itself fails the test when the daemon is still running 10 s after it).
func TestDaemonStartsAndStopsOnSIGTERM(t *testing.T) {
	t.Setenv(envRole, "daemon")
	addr := FreeAddr(t)
	d := Start(t, os.Args[0], addr)
	d.WaitListening(t, addr, waitLimit)
	code, took := d.Stop(t)
	if code != 3 {
		t.Fatalf("exit %d after %v, want 3", code, took)
	}
	if !strings.Contains(d.Output(), "listening") {
		t.Fatalf("output %q", d.Output())
	}
}

func TestRunAndRunUntil(t *testing.T) {
	t.Setenv(envRole, "command")
	if code, out := Run(t, os.Args[0], "4", "x"); code != 4 || out != "4 x\n" {
		t.Fatalf("Run = %d %q", code, out)
	}
	if out := RunUntil(t, waitLimit, 0, os.Args[0], "0"); out != "0\n" {
		t.Fatalf("RunUntil = %q", out)
	}
}

func TestEventuallyWaitsForTheCondition(t *testing.T) {
	start := time.Now()
	Eventually(t, waitLimit, "50ms passed", func() (bool, string) {
		return time.Since(start) > 50*time.Millisecond, "too early"
	})
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("returned before the condition held")
	}
}

func TestFreePorts(t *testing.T) {
	for _, network := range []string{"tcp", "udp"} {
		if p := FreePort(t, network); p <= 0 || p > 65535 {
			t.Fatalf("%s port %d", network, p)
		}
	}
}
