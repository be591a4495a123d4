package main

import (
	"io"
	"os"
	"time"

	"github.com/larsgo/lars/internal/daemon"
	"github.com/larsgo/lars/routesvc"
	"github.com/larsgo/lars/store"
)

// shutdownLimit is how long a stop signal leaves the service to close, unless
// -shutdown-limit says otherwise.
const shutdownLimit = 2 * time.Second

// run is the whole command: it returns the exit code once a stop signal arrives or the
// service fails.
func run(args []string, stderr io.Writer, signals <-chan os.Signal) int {
	o, fs, err := parseFlags(args, stderr)
	var s *settings
	if err == nil {
		s, err = buildSettings(o, fs, stderr)
	}
	if err != nil {
		return daemon.UsageExit(stderr, "lars-dns", err)
	}
	return serve(s, signals)
}

// serve opens the store (retrying while it is unreachable), runs the service and the
// admin endpoint, and stops them on the first signal, within s.StopLimit
// (-shutdown-limit).
func serve(s *settings, signals <-chan os.Signal) int {
	s.Name = "route service"
	return daemon.Main(s.Settings, signals, func(db *store.DB) (daemon.Service, error) {
		s.cfg.Store = db
		return routesvc.New(s.cfg)
	})
}
