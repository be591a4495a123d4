package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/larsgo/lars/agent/upstream"
	"github.com/larsgo/lars/internal/admin"
	"github.com/larsgo/lars/internal/cli"
	"github.com/larsgo/lars/reportsvc"
	"github.com/larsgo/lars/store"
)

// flushLimit bounds the writing of what is queued once a stop signal arrives;
// shutdownLimit bounds the whole stop, flush included.
const (
	flushLimit    = 2 * time.Second
	shutdownLimit = flushLimit + time.Second
)

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
	fmt.Fprintf(stderr, "lars-reporter: %v\n", err)
	return cli.ExitUsage
}

// serve opens the store (retrying while it is unreachable), runs the service and the
// admin endpoint, and stops them on the first signal, writing what is queued.
func serve(s *settings, signals <-chan os.Signal) int {
	log := s.logger
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		select {
		case sig := <-signals:
			log.Info("stopping", "signal", sig.String())
		case <-stopped:
		}
		cancel()
	}()
	defer close(stopped)

	db := openStore(ctx, s)
	if db == nil {
		log.Info("stopped")
		return cli.ExitOK
	}
	defer db.Close()
	s.cfg.Store = db
	s.cfg.FlushTimeout = flushLimit
	svc, err := reportsvc.New(s.cfg)
	if err != nil {
		log.Error("cannot start", "err", err)
		return cli.ExitUsage
	}
	var adm *admin.Server
	if s.admin != "" {
		if adm, err = admin.Start(s.admin, svc.AdminHandler(), log); err != nil {
			log.Error(err.Error())
			return cli.ExitUsage
		}
	}
	code := cli.ExitOK
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done:
		case <-time.After(shutdownLimit):
			err = errors.New("not stopped within the shutdown limit")
		}
	}
	if err != nil {
		log.Error("report service failed", "err", err)
		code = cli.ExitError
	}
	if adm != nil {
		sctx, scancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		_ = adm.Shutdown(sctx)
		scancel()
	}
	st := svc.Stats()
	log.Info("stopped", "results", st.Results, "rows_written", st.RowsWritten, "dropped", st.Dropped())
	return code
}

// openStore opens the store, retrying with backoff while it is unreachable; nil when
// ctx ended first.
func openStore(ctx context.Context, s *settings) *store.DB {
	b := upstream.NewBackoff(time.Second, 30*time.Second, upstream.EqualJitter, nil)
	for {
		db, err := store.Open(ctx, s.dsn)
		if err == nil {
			s.logger.Info("store open", "db", store.Redact(s.dsn), "engine", string(db.Engine()))
			return db
		}
		if ctx.Err() != nil {
			return nil
		}
		s.logger.Warn("cannot open the store, retrying", "db", store.Redact(s.dsn), "err", err)
		t := time.NewTimer(b.Next())
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
