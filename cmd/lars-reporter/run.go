package main

import (
	"io"
	"os"
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

// run is the whole command: it returns the exit code once a stop signal arrives or the
// service fails.
func run(args []string, stderr io.Writer, signals <-chan os.Signal) int {
	o, fs, err := parseFlags(args, stderr)
	var s *settings
	if err == nil {
		s, err = buildSettings(o, fs, stderr)
	}
	if err != nil {
		return daemon.UsageExit(stderr, "lars-reporter", err)
	}
	return serve(s, signals)
}

// serve opens the store (retrying while it is unreachable), runs the service and the
// admin endpoint, and stops them on the first signal, writing what is queued, within
// s.StopLimit (-shutdown-limit).
func serve(s *settings, signals <-chan os.Signal) int {
	s.Name = "report service"
	return daemon.Main(s.Settings, signals, func(db *store.DB) (daemon.Service, error) {
		s.cfg.Store = db
		s.cfg.FlushTimeout = flushLimit(s.StopLimit)
		svc, err := reportsvc.New(s.cfg)
		return reporter{svc}, err
	})
}

// reporter is the report service as the daemon runs it, with its figures in the last
// log line.
type reporter struct{ *reportsvc.Service }

// StoppedAttrs are the figures of the "stopped" log line.
func (r reporter) StoppedAttrs() []any {
	st := r.Stats()
	return []any{"results", st.Results, "rows_written", st.RowsWritten, "dropped", st.Dropped()}
}
