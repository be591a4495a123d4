package main

import (
	"os"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/proctest"
)

// running is a lars-console started by startConsole.
type running struct {
	url    string // the served URL, "http(s)://127.0.0.1:PORT/"
	admin  string // the admin endpoint's HOST:PORT, "" without -admin
	stderr *proctest.Buffer
	sigs   chan os.Signal
	exit   chan int
}

var (
	servingRE = regexp.MustCompile(`msg=serving url=(https?://127\.0\.0\.1:\d+/)`)
	adminRE   = regexp.MustCompile(`msg="admin endpoint" addr=(127\.0\.0\.1:\d+)`)
)

// startConsole runs lars-console with args and waits for its serving line (and its
// admin endpoint's, when args give -admin); it is stopped with SIGTERM when t ends.
func startConsole(t *testing.T, args []string, withAdmin bool) *running {
	t.Helper()
	c := &running{stderr: &proctest.Buffer{}, sigs: make(chan os.Signal, 1), exit: make(chan int, 1)}
	go func() { c.exit <- run(args, noEnv, c.stderr, c.sigs) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		log := c.stderr.String()
		if m := servingRE.FindStringSubmatch(log); m != nil {
			c.url = m[1]
		}
		if m := adminRE.FindStringSubmatch(log); m != nil {
			c.admin = m[1]
		}
		if c.url != "" && (c.admin != "" || !withAdmin) {
			break
		}
		select {
		case code := <-c.exit:
			t.Fatalf("exited %d before serving:\n%s", code, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no serving line after 30 s:\n%s", log)
		}
	}
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop sends SIGTERM (once) and fails t unless the console exits 0 within 30 s.
func (c *running) stop(t *testing.T) {
	t.Helper()
	if c.exit == nil {
		return
	}
	c.sigs <- syscall.SIGTERM
	select {
	case code := <-c.exit:
		if code != 0 {
			t.Errorf("exit %d after SIGTERM:\n%s", code, c.stderr.String())
		}
	case <-time.After(30 * time.Second): // generous: only a hang reaches it, not a busy machine
		t.Fatal("still running 30 s after SIGTERM")
	}
	c.exit = nil
}
