package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/larsgo/lars/internal/cli"
	"github.com/larsgo/lars/internal/daemon"
	"github.com/larsgo/lars/routesvc"
	"github.com/larsgo/lars/store"
)

// shutdownLimit is how long a stop signal leaves the service to close.
const shutdownLimit = 2 * time.Second

// run is the whole command: it returns the exit code once a stop signal arrives or the
// service fails.
func run(args []string, stderr io.Writer, signals <-chan os.Signal) int {
	o, fs, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitOK
	}
	if err == nil {
		var s *settings
		if s, err = buildSettings(o, fs, stderr); err == nil {
			return serve(s, signals)
		}
	}
	fmt.Fprintf(stderr, "lars-dns: %v\n", err)
	return cli.ExitUsage
}

// serve opens the store (retrying while it is unreachable), runs the service and the
// admin endpoint, and stops them on the first signal.
func serve(s *settings, signals <-chan os.Signal) int {
	set := daemon.Settings{Name: "route service", DSN: s.dsn, Admin: s.admin, Logger: s.logger, StopLimit: shutdownLimit}
	return daemon.Main(set, signals, func(db *store.DB) (daemon.Service, error) {
		s.cfg.Store = db
		return routesvc.New(s.cfg)
	})
}
