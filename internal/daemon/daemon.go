// Package daemon is the life of the control plane's services (lars-dns,
// lars-reporter): open the store, serve, stop on a signal.
package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/larsgo/lars/internal/admin"
	"github.com/larsgo/lars/internal/backoff"
	"github.com/larsgo/lars/internal/cli"
	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/store"
)

// Service is what a daemon runs: Run serves until its context ends and returns once
// everything it started has stopped.
type Service interface {
	Run(ctx context.Context) error
	AdminHandler() http.Handler
}

// Settings say how Main runs a service.
type Settings struct {
	Name   string // for logs: "route service", "report service"
	DSN    string // the store, as store.Open takes it
	Admin  string // admin endpoint address; empty: none
	Logger *slog.Logger
	// StopLimit bounds the service's stop once a signal arrived.
	StopLimit time.Duration
	// RetryMax caps the delay between attempts to open an unreachable store. Default 30s.
	RetryMax time.Duration
	// GroupReadable creates a missing SQLite store readable by its group (0640), not
	// its owner only (0600).
	GroupReadable bool
	// AdminOptions guard the admin endpoint: the Host names it answers, its token.
	AdminOptions admin.Options
	// TLS is the service's TLS end (-tls-cert, -tls-key, -tls-ca), nil without TLS:
	// SIGHUP reloads its files.
	TLS *tlsconf.Server
	// Policy is the authorization policy (-policy), nil without one: SIGHUP reloads it.
	Policy *policy.Live

	// startLog is what resolving the flags found worth saying, logged by Main at start
	// (not at parse time, where stderr carries only the one-line usage errors).
	startLog []startLine
}

// startLine is one line for Main to log at start.
type startLine struct {
	level slog.Level
	msg   string
	attrs []any
}

// note keeps a line for Main to log at start.
func (s *Settings) note(level slog.Level, msg string, attrs ...any) {
	s.startLog = append(s.startLog, startLine{level, msg, attrs})
}

// Main opens the store (retrying with backoff while it is unreachable; a signal stops
// that too), builds the service on it, serves the admin endpoint, runs the service until
// the first stop signal or its failure, and returns the exit code. SIGHUP does not stop
// it: it reloads the TLS files, if any.
func Main(s Settings, signals <-chan os.Signal, build func(db *store.DB) (Service, error)) int {
	log := s.Logger
	for _, l := range s.startLog {
		log.Log(context.Background(), l.level, l.msg, l.attrs...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		defer cancel()
		for {
			select {
			case sig := <-signals:
				if sig == syscall.SIGHUP {
					tlsconf.ReloadLogged(s.TLS, log)
					reloadPolicy(s.Policy, log)
					continue
				}
				log.Info("stopping", "signal", sig.String())
			case <-stopped:
			}
			return
		}
	}()
	defer close(stopped)

	db := OpenStore(ctx, s.DSN, s.RetryMax, log, store.GroupReadable(s.GroupReadable))
	if db == nil {
		log.Info("stopped")
		return cli.ExitOK
	}
	defer db.Close()
	svc, err := build(db)
	if err != nil {
		log.Error("cannot start", "err", err)
		return cli.ExitUsage
	}
	var adm *admin.Server
	if s.Admin != "" {
		if adm, err = admin.Start(s.Admin, svc.AdminHandler(), log, s.AdminOptions); err != nil {
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
		case <-time.After(s.StopLimit):
			err = errors.New("not stopped within the shutdown limit")
		}
	}
	if err != nil {
		log.Error(s.Name+" failed", "err", err)
		code = cli.ExitError
	}
	if adm != nil {
		sctx, scancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		_ = adm.Shutdown(sctx)
		scancel()
	}
	if st, ok := svc.(interface{ StoppedAttrs() []any }); ok {
		log.Info("stopped", st.StoppedAttrs()...)
	} else {
		log.Info("stopped")
	}
	return code
}

// OpenStore opens the store dsn names, retrying with capped, jittered backoff (1s up to
// retryMax, default 30s) while it is unreachable; nil when ctx ended first. The DSN's
// password never reaches the logs. opts are store.Open's.
func OpenStore(ctx context.Context, dsn string, retryMax time.Duration, log *slog.Logger, opts ...store.Option) *store.DB {
	if retryMax <= 0 {
		retryMax = 30 * time.Second
	}
	return openStore(ctx, dsn, time.Second, retryMax, log, opts...)
}

// openStore is OpenStore with its first delay between attempts, retryMin, given: the
// tests make it a millisecond to see retries, or an hour to see a cancellation cut the
// wait short.
func openStore(ctx context.Context, dsn string, retryMin, retryMax time.Duration, log *slog.Logger, opts ...store.Option) *store.DB {
	b := backoff.New(retryMin, retryMax, backoff.EqualJitter, nil)
	for {
		db, err := store.Open(ctx, dsn, opts...)
		if err == nil {
			log.Info("store open", "db", store.Redact(dsn), "engine", string(db.Engine()))
			return db
		}
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("cannot open the store, retrying", "db", store.Redact(dsn), "err", err)
		t := time.NewTimer(b.Next())
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
