// Package daemontest holds the tests every control-plane daemon's command line
// passes: bad command lines exit 2 with one line, and the command serves until a
// signal.
package daemontest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/daemon"
	"github.com/larsgo/lars/internal/proctest"
)

// BadLine is a bad command line and what its error must mention.
type BadLine struct {
	Args []string
	Want string
}

// ExitsTwoWithOneLine runs cmd with each bad command line: each must exit 2 with one
// line on stderr that mentions its Want and shows no password ("secret" in a case's
// DSN). The common flags' mistakes are added to cases.
func ExitsTwoWithOneLine[C any](t *testing.T, cmd daemon.Command[C], cases map[string]BadLine) {
	t.Helper()
	dir := t.TempDir()
	all := map[string]BadLine{
		"unknown flag":       {[]string{"-nope"}, "flag provided but not defined"},
		"bad listen":         {[]string{"-listen", "127.0.0.1"}, "-listen"},
		"bad admin":          {[]string{"-admin", "localhost"}, "-admin"},
		"bad shutdown limit": {[]string{"-shutdown-limit", "0s"}, "-shutdown-limit"},
		"bad max-conns":      {[]string{"-max-conns", "0"}, "-max-conns"},
		"bad log format":     {[]string{"-log-format", "xml"}, "-log-format"},
		"bad log level":      {[]string{"-log-level", "loud"}, "-log-level"},
		"missing conf":       {[]string{"-config", filepath.Join(dir, "none.conf")}, "none.conf"},
		"bad conf value":     {[]string{"-config", WriteConf(t, "[reactor]\nport = seventy\n")}, "port"},
		"bad conf section":   {[]string{"-config", WriteConf(t, "[mysql]\ndb_passwd = secret\ndb_port = 0\n")}, "db_port"},
		"extra argument":     {[]string{"serve"}, "unexpected argument"},
		"empty db":           {[]string{"-db", ""}, "-db"},
		"unknown db kind":    {[]string{"-db", "postgres://u:secret@h/db"}, "postgres"},
		"bad sqlite path":    {[]string{"-db", "sqlite:"}, "sqlite"},
		"bad mysql dsn":      {[]string{"-db", "u:secret@tcp(127.0.0.1:1"}, "u:xxxxx@"},
		"policy without TLS": {[]string{"-policy", WriteConf(t, "pull * *\n")}, "mutual TLS"},
	}
	for name, c := range cases {
		all[name] = c
	}
	for name, c := range all {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := cmd.Run(c.Args, &stderr, make(chan os.Signal))
			out := stderr.String()
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, out)
			}
			if !strings.Contains(out, c.Want) {
				t.Fatalf("stderr %q does not mention %q", out, c.Want)
			}
			if strings.Contains(out, "secret") {
				t.Fatalf("stderr shows the password: %q", out)
			}
			if name != "unknown flag" && strings.Count(strings.TrimSpace(out), "\n") != 0 {
				t.Fatalf("more than one line: %q", out)
			}
		})
	}
}

// WriteConf writes text to a new conf file and returns its path.
func WriteConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "lars.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Within bounds each wait for something that must happen; generous, so that only a
// hang reaches it, not a busy machine.
const Within = 30 * time.Second

// StartsAndStopsOnSignal runs cmd on a new SQLite store with -shutdown-limit Within:
// the limit reaches the settings, the service serves, and exits 0 on a signal.
func StartsAndStopsOnSignal[C any](t *testing.T, cmd daemon.Command[C]) {
	t.Helper()
	db := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	var stderr proctest.Buffer
	s, err := cmd.Parse([]string{"-db", db, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-shutdown-limit", Within.String()}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if s.StopLimit != Within {
		t.Fatalf("stop limit %v, want the -shutdown-limit %v", s.StopLimit, Within)
	}
	sig := make(chan os.Signal, 1)
	done := make(chan int, 1)
	go func() { done <- cmd.Serve(s, sig) }()
	proctest.Eventually(t, Within, "serving", func() (bool, string) {
		return strings.Contains(stderr.String(), "serving"), stderr.String()
	})
	sig <- os.Interrupt
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(2 * Within):
		t.Fatalf("no exit within %v of the signal", 2*Within)
	}
}
