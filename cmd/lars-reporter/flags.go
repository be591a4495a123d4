package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/larsgo/lars/internal/daemon"
	"github.com/larsgo/lars/internal/tlsgen"
	"github.com/larsgo/lars/reportsvc"
)

// options are the report service's own flags.
type options struct {
	workers, queue   int
	knownKeysRefresh time.Duration
	idleTimeout      time.Duration

	statusRetention, historyRetention, retentionInterval time.Duration
	historyKeepPerKey, retentionBatch                    int
	reportRoles                                          string
}

// ownFlags declares the report service's flags on fs and returns what makes its
// configuration of them.
func ownFlags(fs *flag.FlagSet) func(r *daemon.Resolved) (reportsvc.Config, error) {
	o := &options{}
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
	return o.config
}

// config checks the flags and returns the service's configuration, with the common
// settings r (the conf file's [repoter] db_thread_cnt gives -workers unless given).
func (o *options) config(r *daemon.Resolved) (reportsvc.Config, error) {
	workers := o.workers
	if r.Conf != nil && r.Conf.Reporter.DBThreadCnt > 0 && !r.Set["workers"] {
		workers = r.Conf.Reporter.DBThreadCnt
	}
	err := daemon.FirstError(daemon.Positive("workers", workers), daemon.Positive("queue", o.queue),
		daemon.NotNegative("known-keys-refresh", o.knownKeysRefresh, "keep every key"),
		daemon.NotNegative("status-retention", o.statusRetention, "keep"), daemon.NotNegative("history-retention", o.historyRetention, "keep"),
		daemon.NotNegative("history-keep-per-key", o.historyKeepPerKey, "no bound"),
		daemon.Positive("retention-interval", o.retentionInterval), daemon.Positive("retention-batch", o.retentionBatch),
		daemon.NotNegative("idle-timeout", o.idleTimeout, "never"))
	if err != nil {
		return reportsvc.Config{}, err
	}
	if workers > o.queue {
		return reportsvc.Config{}, fmt.Errorf("invalid -workers %d: more than -queue %d", workers, o.queue)
	}
	cfg := reportsvc.Config{Listen: r.Listen, MaxConns: r.MaxConns, Workers: workers, QueueSize: o.queue,
		KnownKeysRefresh: o.knownKeysRefresh, IdleTimeout: o.idleTimeout,
		StatusRetention: o.statusRetention, HistoryRetention: o.historyRetention, HistoryKeepPerKey: o.historyKeepPerKey,
		RetentionInterval: o.retentionInterval, RetentionBatch: o.retentionBatch, TLS: r.TLS, Policy: r.Policy, Logger: r.Logger}
	if r.Policy != nil && r.Set["report-roles"] {
		return reportsvc.Config{}, errors.New("-report-roles and -policy: give one (the policy's report rules decide who reports)")
	}
	if cfg.ReportRoles, err = parseRoles(o.reportRoles); err != nil {
		return reportsvc.Config{}, fmt.Errorf("invalid -report-roles: %w", err)
	}
	if o.idleTimeout == 0 {
		cfg.IdleTimeout = -1 // never close a connection for silence
	}
	return cfg, nil
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
