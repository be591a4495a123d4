package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/larsgo/lars/internal/daemon"
	"github.com/larsgo/lars/internal/tlsgen"
	"github.com/larsgo/lars/reportsvc"
)

// options are the command-line flags.
type options struct {
	daemon.Flags
	workers, queue   int
	knownKeysRefresh time.Duration
	idleTimeout      time.Duration

	statusRetention, historyRetention, retentionInterval time.Duration
	historyKeepPerKey, retentionBatch                    int
	reportRoles                                          string
}

func parseFlags(args []string, stderr io.Writer) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := flag.NewFlagSet("lars-reporter", flag.ContinueOnError)
	o.Register(fs, "Lars lars_reporter.conf: [reactor] ip, port, maxConn; [mysql] db_host, db_port, db_user, db_passwd, db_name; [repoter] db_thread_cnt; [tls] cert, key, ca",
		reportsvc.DefaultListen, "agents report to", reportsvc.DefaultMaxConns, shutdownLimit)
	fs.IntVar(&o.workers, "workers", reportsvc.DefaultWorkers, "database writers, each writing batches of its share of the rows (default [repoter] db_thread_cnt of -config, else 2)")
	fs.IntVar(&o.queue, "queue", reportsvc.DefaultQueueSize, "most rows waiting to be written; the latest status of a row replaces a queued one; when full, a new row drops the oldest row of its own connection "+
		"if that holds at least an equal share (a flood pushes out its own rows), else the oldest of the connection holding the most; counted in lars_reporter_queue_full_dropped_rows_total{cause}")
	fs.DurationVar(&o.knownKeysRefresh, "known-keys-refresh", reportsvc.DefaultKnownKeysRefresh,
		"how often the route store is asked whether routes changed, to learn its keys: reports for a key without hosts there are dropped and counted "+
			"(lars_reporter_dropped_rows_total{reason=\"unknown_key\"}); a key just given a host is dropped for at most this long plus one read. "+
			"Until the first read succeeds every key is kept. 0: keep every key's reports")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", reportsvc.DefaultIdleTimeout,
		"close a connection that sends no valid report within this long of connecting, counted as lars_reporter_connections_closed_total{cause=\"idle\"} (0: never); one that has reported is kept however quiet")
	fs.DurationVar(&o.statusRetention, "status-retention", reportsvc.DefaultStatusRetention,
		"delete ServerCallStatus rows not updated for this long (their ts), every -retention-interval (0: keep them)")
	fs.DurationVar(&o.historyRetention, "history-retention", reportsvc.DefaultHistoryRetention,
		"delete RouteHistory rows older than this, but the newest of each key (0: no age bound)")
	fs.IntVar(&o.historyKeepPerKey, "history-keep-per-key", reportsvc.DefaultHistoryKeepPerKey,
		"delete RouteHistory rows older than their key's this many newest (0: no count bound; needs window functions: MariaDB 10.2, MySQL 8.0)")
	fs.DurationVar(&o.retentionInterval, "retention-interval", reportsvc.DefaultRetentionInterval,
		"time between two retention sweeps (the first runs at start)")
	fs.IntVar(&o.retentionBatch, "retention-batch", reportsvc.DefaultRetentionBatch,
		"most rows one retention statement reads or deletes")
	fs.StringVar(&o.reportRoles, "report-roles", string(tlsgen.RoleAgent),
		"with mutual TLS (-tls-ca), the comma-separated certificate `roles` (agent, client, server, console) allowed to report; "+
			"a connection of another role is closed, counted as lars_reporter_connections_closed_total{cause=\"not_allowed\"}; -policy decides instead when given")
	err := daemon.Parse(fs, args, stderr, "The Lars report service: stores the call status agents report in ServerCallStatus.")
	return o, fs, err
}

// settings is what run needs, from the conf file and the flags over it.
type settings struct {
	daemon.Settings
	cfg reportsvc.Config
}

// buildSettings checks the flags, reads the conf file when given, and lets every flag
// set on the command line override it.
func buildSettings(o *options, fs *flag.FlagSet, stderr io.Writer) (*settings, error) {
	r, err := o.Resolve(fs, stderr)
	if err != nil {
		return nil, err
	}
	workers := o.workers
	if r.Conf != nil && r.Conf.Reporter.DBThreadCnt > 0 && !r.Set["workers"] {
		workers = r.Conf.Reporter.DBThreadCnt
	}
	for _, v := range []struct {
		name string
		v    int
	}{{"-workers", workers}, {"-queue", o.queue}} {
		if v.v <= 0 {
			return nil, fmt.Errorf("invalid %s %d: must be positive", v.name, v.v)
		}
	}
	if o.knownKeysRefresh < 0 {
		return nil, fmt.Errorf("invalid -known-keys-refresh %v: must not be negative", o.knownKeysRefresh)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"-status-retention", o.statusRetention}, {"-history-retention", o.historyRetention}} {
		if d.v < 0 {
			return nil, fmt.Errorf("invalid %s %v: must be 0 (keep) or positive", d.name, d.v)
		}
	}
	if o.historyKeepPerKey < 0 {
		return nil, fmt.Errorf("invalid -history-keep-per-key %d: must be 0 (no bound) or positive", o.historyKeepPerKey)
	}
	if o.retentionInterval <= 0 {
		return nil, fmt.Errorf("invalid -retention-interval %v: must be positive", o.retentionInterval)
	}
	if o.retentionBatch <= 0 {
		return nil, fmt.Errorf("invalid -retention-batch %d: must be positive", o.retentionBatch)
	}
	if o.idleTimeout < 0 {
		return nil, fmt.Errorf("invalid -idle-timeout %v: must be 0 (never) or positive", o.idleTimeout)
	}
	if workers > o.queue {
		return nil, fmt.Errorf("invalid -workers %d: more than -queue %d", workers, o.queue)
	}
	cfg := reportsvc.Config{Listen: r.Listen, MaxConns: r.MaxConns, Workers: workers, QueueSize: o.queue,
		KnownKeysRefresh: o.knownKeysRefresh, IdleTimeout: o.idleTimeout,
		StatusRetention: o.statusRetention, HistoryRetention: o.historyRetention, HistoryKeepPerKey: o.historyKeepPerKey,
		RetentionInterval: o.retentionInterval, RetentionBatch: o.retentionBatch, TLS: r.TLS, Policy: r.Policy, Logger: r.Logger}
	if r.Policy != nil && r.Set["report-roles"] {
		return nil, errors.New("-report-roles and -policy: give one (the policy's report rules decide who reports)")
	}
	if cfg.ReportRoles, err = parseRoles(o.reportRoles); err != nil {
		return nil, fmt.Errorf("invalid -report-roles: %w", err)
	}
	if o.idleTimeout == 0 {
		cfg.IdleTimeout = -1 // never close a connection for silence
	}
	return &settings{Settings: r.Settings, cfg: cfg}, nil
}

// parseRoles reads -report-roles: comma-separated role names, at least one.
func parseRoles(s string) ([]tlsgen.Role, error) {
	var roles []tlsgen.Role
	for _, name := range strings.Split(s, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		r, err := tlsgen.ParseRole(name)
		if err != nil {
			return nil, err
		}
		roles = append(roles, r)
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("%q names no role", s)
	}
	return roles, nil
}
