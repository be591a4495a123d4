package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/routesvc"
)

func TestBadConfigExitsTwoWithOneLine(t *testing.T) {
	dir := t.TempDir()
	badConf := filepath.Join(dir, "bad.conf")
	os.WriteFile(badConf, []byte("[reactor]\nport = seventy\n"), 0o600)
	cases := map[string]struct {
		args []string
		want string
	}{
		"unknown flag":       {[]string{"-nope"}, "flag provided but not defined"},
		"bad listen":         {[]string{"-listen", "127.0.0.1"}, "-listen"},
		"bad admin":          {[]string{"-admin", "localhost"}, "-admin"},
		"bad poll":           {[]string{"-poll", "0s"}, "-poll"},
		"bad reload":         {[]string{"-reload", "-1s"}, "-reload"},
		"bad retention":      {[]string{"-retention", "-1s"}, "-retention"},
		"bad idle timeout":   {[]string{"-idle-timeout", "-1s"}, "-idle-timeout"},
		"bad max-subs":       {[]string{"-max-subs", "0"}, "-max-subs"},
		"bad subs per conn":  {[]string{"-max-subs-per-conn", "-5"}, "-max-subs-per-conn"},
		"bad unknown subs":   {[]string{"-max-unknown-subs-per-conn", "0"}, "-max-unknown-subs-per-conn"},
		"bad shutdown limit": {[]string{"-shutdown-limit", "0s"}, "-shutdown-limit"},
		"bad max-conns":      {[]string{"-max-conns", "0"}, "-max-conns"},
		"bad log format":     {[]string{"-log-format", "xml"}, "-log-format"},
		"missing conf":       {[]string{"-config", filepath.Join(dir, "none.conf")}, "none.conf"},
		"bad conf value":     {[]string{"-config", badConf}, "port"},
		"extra argument":     {[]string{"serve"}, "unexpected argument"},
		"empty db":           {[]string{"-db", ""}, "-db"},
		"unknown db kind":    {[]string{"-db", "postgres://u:secret@h/db"}, "postgres"},
		"bad sqlite path":    {[]string{"-db", "sqlite:"}, "sqlite"},
		"bad mysql dsn":      {[]string{"-db", "u:secret@tcp(127.0.0.1:1"}, "u:xxxxx@"},
		"bad conf section":   {[]string{"-config", writeConf(t, "[mysql]\ndb_port = 0\n")}, "db_port"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(c.args, &stderr, make(chan os.Signal))
			out := stderr.String()
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, out)
			}
			if !strings.Contains(out, c.want) {
				t.Fatalf("stderr %q does not mention %q", out, c.want)
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

func writeConf(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "lars_dns.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfFileAndFlagsOverIt(t *testing.T) {
	conf := writeConf(t, "[reactor]\nip = 127.0.0.1\nport = 17778\nmaxConn = 77\n[mysql]\ndb_host = 127.0.0.1\ndb_port = 3306\ndb_user = lars\ndb_passwd = secret\ndb_name = lars_dns\n")
	var stderr bytes.Buffer
	o, fs, err := parseFlags([]string{"-config", conf, "-max-conns", "5"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := buildSettings(o, fs, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.Listen != "127.0.0.1:17778" || s.cfg.MaxConns != 5 || !strings.HasPrefix(s.DSN, "lars:secret@tcp(127.0.0.1:3306)/lars_dns") {
		t.Fatalf("settings from the conf: listen %s, max conns %d, dsn %s", s.cfg.Listen, s.cfg.MaxConns, s.DSN)
	}
	o, fs, _ = parseFlags([]string{"-config", conf, "-listen", "127.0.0.1:1", "-db", "sqlite:x.db", "-retention", "0"}, &stderr)
	if s, err = buildSettings(o, fs, &stderr); err != nil {
		t.Fatal(err)
	}
	if s.cfg.Listen != "127.0.0.1:1" || s.DSN != "sqlite:x.db" || s.cfg.MaxConns != 77 || s.cfg.Retention >= 0 || s.cfg.IdleTimeout != routesvc.DefaultIdleTimeout {
		t.Fatalf("flags over the conf: %+v dsn %s", s.cfg, s.DSN)
	}
}

// TestSubscriptionBoundFlags: -max-subs-per-conn, -max-unknown-subs-per-conn and
// -max-subs reach the service.
func TestSubscriptionBoundFlags(t *testing.T) {
	var stderr bytes.Buffer
	o, fs, err := parseFlags([]string{"-max-subs-per-conn", "7", "-max-unknown-subs-per-conn", "3", "-max-subs", "70"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := buildSettings(o, fs, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.MaxSubsPerConn != 7 || s.cfg.MaxUnknownSubsPerConn != 3 || s.cfg.MaxSubs != 70 {
		t.Fatalf("bounds %d, %d and %d, want 7, 3 and 70", s.cfg.MaxSubsPerConn, s.cfg.MaxUnknownSubsPerConn, s.cfg.MaxSubs)
	}
}

// TestIdleTimeoutFlag: -idle-timeout reaches the service; 0 turns the deadline off.
func TestIdleTimeoutFlag(t *testing.T) {
	for arg, want := range map[string]time.Duration{"90s": 90 * time.Second, "0": -1} {
		var stderr bytes.Buffer
		o, fs, err := parseFlags([]string{"-idle-timeout", arg}, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		s, err := buildSettings(o, fs, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		if s.cfg.IdleTimeout != want {
			t.Fatalf("-idle-timeout %s: %v, want %v", arg, s.cfg.IdleTimeout, want)
		}
	}
}

// eventWithin bounds every wait of these tests for something that must happen: on a
// working build each comes within a second, and the bound is far beyond that, so that
// a machine stalled for seconds never reaches it.
const eventWithin = 30 * time.Second

// stopWithin is the -shutdown-limit these tests give the daemons they stop: a stalled
// machine cannot reach it, so a stop judged by its exit code judges what the stop
// did, not its speed (the default limit is the product's, not under test).
const stopWithin = 30 * time.Second

// TestStartsAndStopsOnSignal: the command serves, then exits 0 on a signal. It runs
// what run does after parsing, with -shutdown-limit stopWithin.
func TestStartsAndStopsOnSignal(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	sig := make(chan os.Signal, 1)
	var stderr proctest.Buffer
	o, fs, err := parseFlags([]string{"-db", db, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-shutdown-limit", stopWithin.String()}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := buildSettings(o, fs, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if s.StopLimit != stopWithin {
		t.Fatalf("stop limit %v, want the -shutdown-limit %v", s.StopLimit, stopWithin)
	}
	done := make(chan int, 1)
	go func() { done <- serve(s, sig) }()
	proctest.Eventually(t, eventWithin, "serving", func() (bool, string) {
		return strings.Contains(stderr.String(), "serving"), stderr.String()
	})
	sig <- os.Interrupt
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(2 * eventWithin):
		t.Fatalf("no exit within %v of the signal", 2*eventWithin)
	}
}
