//go:build linux || darwin

package daemon

import (
	"bytes"
	"flag"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// resolveMaxConns resolves the daemon flags given args with a default -max-conns of
// ceiling, and returns the bound and the lines Main is to log at start.
func resolveMaxConns(t *testing.T, ceiling int, args ...string) (int, string) {
	t.Helper()
	var f Flags
	fs := flag.NewFlagSet("svc", flag.ContinueOnError)
	f.Register(fs, "conf", "127.0.0.1:0", "clients connect to", ceiling, 1)
	var stderr bytes.Buffer
	if err := Parse(fs, append([]string{"-db", "sqlite:x.db"}, args...), &stderr, "a service"); err != nil {
		t.Fatal(err)
	}
	r, err := f.Resolve(fs, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if stderr.Len() > 0 {
		t.Errorf("resolving wrote %q: it must leave stderr to usage errors", stderr.String())
	}
	var lines []string
	for _, l := range r.startLog {
		lines = append(lines, l.msg)
	}
	return r.MaxConns, strings.Join(lines, "\n")
}

// TestMaxConnsDefaultFitsTheOpenFileLimit: without -max-conns the bound is what the
// open-file limit (raised to its hard limit) allows, and the log says so; a -max-conns
// above it is kept and warned about.
func TestMaxConnsDefaultFitsTheOpenFileLimit(t *testing.T) {
	const ceiling = 1 << 30
	got, log := resolveMaxConns(t, ceiling)
	var l unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	if want := connsAllowed(l.Cur, ceiling); got != want || uint64(got) >= l.Cur {
		t.Fatalf("default max conns %d, want %d (open-file limit %d)", got, want, l.Cur)
	}
	if !strings.Contains(log, "max-conns from the open-file limit") {
		t.Errorf("the log does not say where the bound came from: %q", log)
	}
	if got, _ := resolveMaxConns(t, 5); got != 5 {
		t.Errorf("default max conns %d with a ceiling of 5", got)
	}
	got, log = resolveMaxConns(t, ceiling, "-max-conns", "1000000000")
	if got != 1000000000 || !strings.Contains(log, "above what the open-file limit allows") {
		t.Errorf("-max-conns 1e9: bound %d, log %q; want it kept and warned about", got, log)
	}
}
