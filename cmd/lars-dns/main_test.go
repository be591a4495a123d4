package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/daemon/daemontest"
	"github.com/larsgo/lars/routesvc"
)

// TestBadConfigExitsTwoWithOneLine: every bad command line (the common flags' and the
// route service's own) exits 2 with one line.
func TestBadConfigExitsTwoWithOneLine(t *testing.T) {
	daemontest.ExitsTwoWithOneLine(t, command, map[string]daemontest.BadLine{
		"bad poll":          {Args: []string{"-poll", "-1s"}, Want: "-poll"},
		"bad watch":         {Args: []string{"-watch", "0s"}, Want: "-watch"},
		"bad reload":        {Args: []string{"-reload", "-1s"}, Want: "-reload"},
		"bad retention":     {Args: []string{"-retention", "-1s"}, Want: "-retention"},
		"bad idle timeout":  {Args: []string{"-idle-timeout", "-1s"}, Want: "-idle-timeout"},
		"bad max-subs":      {Args: []string{"-max-subs", "0"}, Want: "-max-subs"},
		"bad subs per conn": {Args: []string{"-max-subs-per-conn", "-5"}, Want: "-max-subs-per-conn"},
		"bad unknown subs":  {Args: []string{"-max-unknown-subs-per-conn", "0"}, Want: "-max-unknown-subs-per-conn"},
		"bad lease flush":   {Args: []string{"-lease-flush", "0s"}, Want: "-lease-flush"},
		"bad lease ttls":    {Args: []string{"-min-lease-ttl", "2h"}, Want: "-min-lease-ttl"},
		"bad max leases":    {Args: []string{"-max-leases", "0"}, Want: "-max-leases"},
	})
}

func TestConfFileAndFlagsOverIt(t *testing.T) {
	conf := daemontest.WriteConf(t, "[reactor]\nip = 127.0.0.1\nport = 17778\nmaxConn = 77\n[mysql]\ndb_host = 127.0.0.1\ndb_port = 3306\ndb_user = lars\ndb_passwd = secret\ndb_name = lars_dns\n")
	var stderr bytes.Buffer
	s, err := command.Parse([]string{"-config", conf, "-max-conns", "5"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if s.Config.Listen != "127.0.0.1:17778" || s.Config.MaxConns != 5 || !strings.HasPrefix(s.DSN, "lars:secret@tcp(127.0.0.1:3306)/lars_dns") {
		t.Fatalf("settings from the conf: listen %s, max conns %d, dsn %s", s.Config.Listen, s.Config.MaxConns, s.DSN)
	}
	if s, err = command.Parse([]string{"-config", conf, "-listen", "127.0.0.1:1", "-db", "sqlite:x.db", "-retention", "0"}, &stderr); err != nil {
		t.Fatal(err)
	}
	if s.Config.Listen != "127.0.0.1:1" || s.DSN != "sqlite:x.db" || s.Config.MaxConns != 77 || s.Config.Retention >= 0 || s.Config.IdleTimeout != routesvc.DefaultIdleTimeout {
		t.Fatalf("flags over the conf: %+v dsn %s", s.Config, s.DSN)
	}
}

// TestSubscriptionBoundFlags: -max-subs-per-conn, -max-unknown-subs-per-conn and
// -max-subs reach the service.
func TestSubscriptionBoundFlags(t *testing.T) {
	var stderr bytes.Buffer
	s, err := command.Parse([]string{"-max-subs-per-conn", "7", "-max-unknown-subs-per-conn", "3", "-max-subs", "70"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if s.Config.MaxSubsPerConn != 7 || s.Config.MaxUnknownSubsPerConn != 3 || s.Config.MaxSubs != 70 {
		t.Fatalf("bounds %d, %d and %d, want 7, 3 and 70", s.Config.MaxSubsPerConn, s.Config.MaxUnknownSubsPerConn, s.Config.MaxSubs)
	}
}

// TestIdleTimeoutFlag: -idle-timeout reaches the service; 0 turns the deadline off.
func TestIdleTimeoutFlag(t *testing.T) {
	for arg, want := range map[string]time.Duration{"90s": 90 * time.Second, "0": -1} {
		var stderr bytes.Buffer
		s, err := command.Parse([]string{"-idle-timeout", arg}, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		if s.Config.IdleTimeout != want {
			t.Fatalf("-idle-timeout %s: %v, want %v", arg, s.Config.IdleTimeout, want)
		}
	}
}

// TestRegisterFlags: -allow-register and the lease settings reach the service;
// registration is off by default.
func TestRegisterFlags(t *testing.T) {
	var stderr bytes.Buffer
	s, err := command.Parse(nil, &stderr)
	if err != nil || s.Config.AllowRegister {
		t.Fatalf("default: allow register %v, %v; want off", s.Config.AllowRegister, err)
	}
	s, err = command.Parse([]string{"-allow-register", "-lease-flush", "100ms", "-min-lease-ttl", "2s", "-max-lease-ttl", "10m",
		"-max-leases-per-conn", "5", "-max-leases", "50"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Config
	if !c.AllowRegister || c.LeaseFlush != 100*time.Millisecond || c.MinLeaseTTL != 2*time.Second || c.MaxLeaseTTL != 10*time.Minute ||
		c.MaxLeasesPerConn != 5 || c.MaxLeases != 50 {
		t.Fatalf("config %+v", c)
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
