package main

import (
	"time"

	"github.com/larsgo/lars/internal/daemon"
	"github.com/larsgo/lars/reportsvc"
	"github.com/larsgo/lars/store"
)

// shutdownLimit bounds the whole stop, flush included, unless -shutdown-limit says
// otherwise; the flush of what is queued gets all of it but closeMargin (a third of a
// shorter limit), left for closing.
const (
	shutdownLimit = 3 * time.Second
	closeMargin   = time.Second
)

// flushLimit bounds the writing of what is queued once a stop signal arrives, within a
// stop bounded by stopLimit.
func flushLimit(stopLimit time.Duration) time.Duration {
	return stopLimit - min(closeMargin, stopLimit/3)
}

// command is lars-reporter's command line.
var command = daemon.Command[reportsvc.Config]{
	Name:    "lars-reporter",
	Summary: "The Lars report service: stores the call status agents report in ServerCallStatus.",
	Service: "report service",
	Conf:    "Lars lars_reporter.conf: [reactor] ip, port, maxConn; [mysql] db_host, db_port, db_user, db_passwd, db_name; [repoter] db_thread_cnt; [tls] cert, key, ca",
	Listen:  reportsvc.DefaultListen, ListenHelp: "agents report to", MaxConns: reportsvc.DefaultMaxConns, StopLimit: shutdownLimit,
	Own: ownFlags,
	// The flush of what is queued at a stop gets the stop limit but closeMargin.
	New: func(cfg reportsvc.Config, s daemon.Settings, db *store.DB) (daemon.Service, error) {
		cfg.Store = db
		cfg.FlushTimeout = flushLimit(s.StopLimit)
		svc, err := reportsvc.New(cfg)
		return reporter{svc}, err
	},
}

// reporter is the report service as the daemon runs it, with its figures in the last
// log line.
type reporter struct{ *reportsvc.Service }

// StoppedAttrs are the figures of the "stopped" log line.
func (r reporter) StoppedAttrs() []any {
	st := r.Stats()
	return []any{"results", st.Results, "rows_written", st.RowsWritten, "dropped", st.Dropped()}
}
