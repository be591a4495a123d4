package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/proctest"
)

func TestBadConfigExitsTwoWithOneLine(t *testing.T) {
	dir := t.TempDir()
	badConf := writeConf(t, "[reactor]\nport = seventy\n")
	cases := map[string]struct {
		args []string
		want string
	}{
		"unknown flag":       {[]string{"-nope"}, "flag provided but not defined"},
		"bad listen":         {[]string{"-listen", "127.0.0.1"}, "-listen"},
		"bad admin":          {[]string{"-admin", "localhost"}, "-admin"},
		"bad workers":        {[]string{"-workers", "0"}, "-workers"},
		"bad queue":          {[]string{"-queue", "-1"}, "-queue"},
		"workers over queue": {[]string{"-workers", "8", "-queue", "4"}, "-workers"},
		"bad key refresh":    {[]string{"-known-keys-refresh", "-1s"}, "-known-keys-refresh"},
		"bad idle timeout":   {[]string{"-idle-timeout", "-1s"}, "-idle-timeout"},
		"bad status ret.":    {[]string{"-status-retention", "-1h"}, "-status-retention"},
		"bad history ret.":   {[]string{"-history-retention", "-1h"}, "-history-retention"},
		"bad history keep":   {[]string{"-history-keep-per-key", "-1"}, "-history-keep-per-key"},
		"bad ret. interval":  {[]string{"-retention-interval", "0s"}, "-retention-interval"},
		"bad ret. batch":     {[]string{"-retention-batch", "0"}, "-retention-batch"},
		"bad shutdown limit": {[]string{"-shutdown-limit", "0s"}, "-shutdown-limit"},
		"bad max-conns":      {[]string{"-max-conns", "0"}, "-max-conns"},
		"bad log format":     {[]string{"-log-format", "xml"}, "-log-format"},
		"bad log level":      {[]string{"-log-level", "loud"}, "-log-level"},
		"missing conf":       {[]string{"-config", filepath.Join(dir, "none.conf")}, "none.conf"},
		"bad conf value":     {[]string{"-config", badConf}, "port"},
		"bad thread count":   {[]string{"-config", writeConf(t, "[repoter]\ndb_thread_cnt = 0\n")}, "db_thread_cnt"},
		"extra argument":     {[]string{"serve"}, "unexpected argument"},
		"empty db":           {[]string{"-db", ""}, "-db"},
		"unknown db kind":    {[]string{"-db", "postgres://u:secret@h/db"}, "postgres"},
		"bad sqlite path":    {[]string{"-db", "sqlite:"}, "sqlite"},
		"bad mysql dsn":      {[]string{"-db", "u:secret@tcp(127.0.0.1:1"}, "u:xxxxx@"},
		"bad conf section":   {[]string{"-config", writeConf(t, "[mysql]\ndb_passwd = secret\ndb_port = 0\n")}, "db_port"},
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
	p := filepath.Join(t.TempDir(), "lars_reporter.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfFileAndFlagsOverIt(t *testing.T) {
	conf := writeConf(t, "[reactor]\nip = 127.0.0.1\nport = 17779\nmaxConn = 77\nthreadNum = 5\n"+
		"[mysql]\ndb_host = 127.0.0.1\ndb_port = 3306\ndb_user = lars\ndb_passwd = secret\ndb_name = lars_dns\n"+
		"[repoter]\ndb_thread_cnt = 3\n")
	var stderr bytes.Buffer
	o, fs, err := parseFlags([]string{"-config", conf, "-max-conns", "5"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := buildSettings(o, fs, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.Listen != "127.0.0.1:17779" || s.cfg.MaxConns != 5 || s.cfg.Workers != 3 ||
		!strings.HasPrefix(s.DSN, "lars:secret@tcp(127.0.0.1:3306)/lars_dns") {
		t.Fatalf("settings from the conf: listen %s, max conns %d, workers %d, dsn %s", s.cfg.Listen, s.cfg.MaxConns, s.cfg.Workers, s.DSN)
	}
	o, fs, _ = parseFlags([]string{"-config", conf, "-listen", "127.0.0.1:1", "-db", "sqlite:x.db", "-workers", "1", "-queue", "10"}, &stderr)
	if s, err = buildSettings(o, fs, &stderr); err != nil {
		t.Fatal(err)
	}
	if s.cfg.Listen != "127.0.0.1:1" || s.DSN != "sqlite:x.db" || s.cfg.MaxConns != 77 || s.cfg.Workers != 1 || s.cfg.QueueSize != 10 {
		t.Fatalf("flags over the conf: %+v dsn %s", s.cfg, s.DSN)
	}
	o, fs, _ = parseFlags(nil, &stderr)
	if s, err = buildSettings(o, fs, &stderr); err != nil {
		t.Fatal(err)
	}
	if s.cfg.Listen != "127.0.0.1:7779" || s.DSN != "sqlite:lars.db" || s.cfg.Workers != 2 || s.cfg.QueueSize != 100000 {
		t.Fatalf("defaults: %+v dsn %s", s.cfg, s.DSN)
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

// TestFlushLimit: the flush of what is queued gets all of a stop limit but the time
// left for closing (the default limit reaching the service is internal/daemon's test).
func TestFlushLimit(t *testing.T) {
	for stop, flush := range map[time.Duration]time.Duration{
		shutdownLimit:          2 * time.Second,
		30 * time.Second:       29 * time.Second,
		900 * time.Millisecond: 600 * time.Millisecond,
	} {
		if got := flushLimit(stop); got != flush {
			t.Errorf("flushLimit(%v) = %v, want %v", stop, got, flush)
		}
	}
}

// TestIdleTimeoutAndKeyRefreshFlags: -idle-timeout and -known-keys-refresh reach the
// service; -idle-timeout 0 turns the deadline off, -known-keys-refresh 0 the filter.
func TestIdleTimeoutAndKeyRefreshFlags(t *testing.T) {
	for _, c := range []struct {
		args          []string
		idle, refresh time.Duration
	}{
		{nil, 10 * time.Minute, 5 * time.Second},
		{[]string{"-idle-timeout", "90s", "-known-keys-refresh", "1s"}, 90 * time.Second, time.Second},
		{[]string{"-idle-timeout", "0", "-known-keys-refresh", "0"}, -1, 0},
	} {
		var stderr bytes.Buffer
		o, fs, err := parseFlags(c.args, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		s, err := buildSettings(o, fs, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		if s.cfg.IdleTimeout != c.idle || s.cfg.KnownKeysRefresh != c.refresh {
			t.Fatalf("%v: idle %v refresh %v, want %v %v", c.args, s.cfg.IdleTimeout, s.cfg.KnownKeysRefresh, c.idle, c.refresh)
		}
		if c.args == nil && (s.cfg.StatusRetention != 7*24*time.Hour || s.cfg.HistoryRetention != 90*24*time.Hour ||
			s.cfg.HistoryKeepPerKey != 10000 || s.cfg.RetentionInterval != time.Hour || s.cfg.RetentionBatch != 1000) {
			t.Fatalf("retention defaults %+v", s.cfg)
		}
	}
}
