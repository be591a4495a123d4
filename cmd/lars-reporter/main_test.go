package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/daemon/daemontest"
)

// TestBadConfigExitsTwoWithOneLine: every bad command line (the common flags' and the
// report service's own) exits 2 with one line.
func TestBadConfigExitsTwoWithOneLine(t *testing.T) {
	daemontest.ExitsTwoWithOneLine(t, command, map[string]daemontest.BadLine{
		"bad workers":        {Args: []string{"-workers", "0"}, Want: "-workers"},
		"bad queue":          {Args: []string{"-queue", "-1"}, Want: "-queue"},
		"workers over queue": {Args: []string{"-workers", "8", "-queue", "4"}, Want: "-workers"},
		"bad key refresh":    {Args: []string{"-known-keys-refresh", "-1s"}, Want: "-known-keys-refresh"},
		"bad idle timeout":   {Args: []string{"-idle-timeout", "-1s"}, Want: "-idle-timeout"},
		"bad status ret.":    {Args: []string{"-status-retention", "-1h"}, Want: "-status-retention"},
		"bad history ret.":   {Args: []string{"-history-retention", "-1h"}, Want: "-history-retention"},
		"bad history keep":   {Args: []string{"-history-keep-per-key", "-1"}, Want: "-history-keep-per-key"},
		"bad ret. interval":  {Args: []string{"-retention-interval", "0s"}, Want: "-retention-interval"},
		"bad ret. batch":     {Args: []string{"-retention-batch", "0"}, Want: "-retention-batch"},
		"bad thread count":   {Args: []string{"-config", daemontest.WriteConf(t, "[repoter]\ndb_thread_cnt = 0\n")}, Want: "db_thread_cnt"},
	})
}

func TestConfFileAndFlagsOverIt(t *testing.T) {
	conf := daemontest.WriteConf(t, "[reactor]\nip = 127.0.0.1\nport = 17779\nmaxConn = 77\nthreadNum = 5\n"+
		"[mysql]\ndb_host = 127.0.0.1\ndb_port = 3306\ndb_user = lars\ndb_passwd = secret\ndb_name = lars_dns\n"+
		"[repoter]\ndb_thread_cnt = 3\n")
	var stderr bytes.Buffer
	s, err := command.Parse([]string{"-config", conf, "-max-conns", "5"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if s.Config.Listen != "127.0.0.1:17779" || s.Config.MaxConns != 5 || s.Config.Workers != 3 ||
		!strings.HasPrefix(s.DSN, "lars:secret@tcp(127.0.0.1:3306)/lars_dns") {
		t.Fatalf("settings from the conf: listen %s, max conns %d, workers %d, dsn %s", s.Config.Listen, s.Config.MaxConns, s.Config.Workers, s.DSN)
	}
	if s, err = command.Parse([]string{"-config", conf, "-listen", "127.0.0.1:1", "-db", "sqlite:x.db", "-workers", "1", "-queue", "10"}, &stderr); err != nil {
		t.Fatal(err)
	}
	if s.Config.Listen != "127.0.0.1:1" || s.DSN != "sqlite:x.db" || s.Config.MaxConns != 77 || s.Config.Workers != 1 || s.Config.QueueSize != 10 {
		t.Fatalf("flags over the conf: %+v dsn %s", s.Config, s.DSN)
	}
	if s, err = command.Parse(nil, &stderr); err != nil {
		t.Fatal(err)
	}
	if s.Config.Listen != "127.0.0.1:7779" || s.DSN != "sqlite:lars.db" || s.Config.Workers != 2 || s.Config.QueueSize != 100000 {
		t.Fatalf("defaults: %+v dsn %s", s.Config, s.DSN)
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

// TestStartsAndStopsOnSignal: the command serves, then exits 0 on a signal.
func TestStartsAndStopsOnSignal(t *testing.T) { daemontest.StartsAndStopsOnSignal(t, command) }

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
		s, err := command.Parse(c.args, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		if s.Config.IdleTimeout != c.idle || s.Config.KnownKeysRefresh != c.refresh {
			t.Fatalf("%v: idle %v refresh %v, want %v %v", c.args, s.Config.IdleTimeout, s.Config.KnownKeysRefresh, c.idle, c.refresh)
		}
		if c.args == nil && (s.Config.StatusRetention != 7*24*time.Hour || s.Config.HistoryRetention != 90*24*time.Hour ||
			s.Config.HistoryKeepPerKey != 10000 || s.Config.RetentionInterval != time.Hour || s.Config.RetentionBatch != 1000) {
			t.Fatalf("retention defaults %+v", s.Config)
		}
	}
}
