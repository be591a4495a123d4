package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/larsgo/lars/console"
	"github.com/larsgo/lars/internal/admin"
	"github.com/larsgo/lars/internal/cli"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/store"
)

// Timeouts of the HTTP server and its shutdown.
const (
	openTimeout   = 30 * time.Second
	indexTimeout  = 10 * time.Minute // the first start on a large RouteHistory builds an index
	shutdownLimit = 2 * time.Second
)

// run is the whole command: it returns the exit code once a stop signal arrives or the
// server fails.
func run(args []string, getenv func(string) string, stderr io.Writer, signals <-chan os.Signal) int {
	o, fs, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitOK
	}
	if err == nil {
		var s *settings
		if s, err = buildSettings(o, fs, getenv, stderr); err == nil {
			return serve(s, signals)
		}
	}
	fmt.Fprintf(stderr, "lars-console: %v\n", err)
	return cli.ExitUsage
}

// serve opens the store, serves the console and stops on the first signal.
func serve(s *settings, signals <-chan os.Signal) int {
	log := s.logger
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	db, err := store.Open(ctx, s.dsn, store.GroupReadable(s.groupReadable))
	cancel()
	if err != nil {
		log.Error("cannot open the route store", "err", err)
		return cli.ExitError
	}
	defer db.Close()
	log.Info("route store open", "db", store.Redact(s.dsn), "engine", string(db.Engine()))
	ctx, cancel = context.WithTimeout(context.Background(), indexTimeout)
	if err := db.EnsureConsoleIndexes(ctx); err != nil {
		log.Warn("the pages of long lists will be slow", "err", err)
	}
	cancel()
	ctx, cancel = context.WithTimeout(context.Background(), openTimeout)
	made, err := console.EnsureAdmin(ctx, db, s.initialPasswordFile, 0)
	cancel()
	if err != nil {
		log.Error("cannot set up the accounts", "err", err)
		return cli.ExitError
	}
	if made {
		log.Warn("no account yet: created the account \"admin\"; its password is in the file (mode 0600): log in, then change it or add accounts (larsctl user)",
			"file", s.initialPasswordFile)
	}
	c, err := console.New(console.Config{Store: db, Token: s.token, Logger: log, PageRows: s.pageRows, MaxPageRows: s.maxPageRows,
		SessionIdle: s.sessionIdle, SessionMax: s.sessionMax})
	if err != nil {
		log.Error("cannot start", "err", err)
		return cli.ExitError
	}
	guard, err := console.NewGuard(s.guard)
	if err != nil {
		log.Error("cannot start", "err", err)
		return cli.ExitError
	}
	if s.admin != "" {
		metrics := func(w io.Writer) {
			c.WriteMetrics(w)
			guard.WriteMetrics(w)
			if s.tls != nil {
				s.tls.WriteMetrics(w, "lars_console")
			}
		}
		adm, err := admin.Start(s.admin, admin.Mux(admin.Handlers{Metrics: metrics}), log, s.adminOpts)
		if err != nil {
			log.Error("cannot start the admin endpoint", "err", err)
			return cli.ExitUsage
		}
		defer func() {
			actx, acancel := context.WithTimeout(context.Background(), shutdownLimit)
			_ = adm.Shutdown(actx)
			acancel()
		}()
	}
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		log.Error("cannot listen", "err", err)
		return cli.ExitUsage
	}
	srv := guard.Server(c)
	// net/http reports refused TLS handshakes here; a plaintext one is counted
	// (lars_console_tls_handshake_failures_total), the others are logged at debug.
	srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelDebug)
	ln, scheme := guard.Listener(ln), "http"
	if s.tls != nil {
		ln, scheme = s.tls.HTTPListener(ln), "https"
		log.Info("serving HTTPS", "mutual", s.tls.Mutual(), "subject", s.tls.Certificate().Subject.CommonName,
			"not_after", s.tls.Certificate().NotAfter.UTC().Format(time.RFC3339))
	}
	log.Info("serving", "url", scheme+"://"+ln.Addr().String()+"/", "token", s.token != "")
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	code := waitStop(done, signals, s.tls, log)
	sctx, scancel := context.WithTimeout(context.Background(), shutdownLimit)
	_ = srv.Shutdown(sctx)
	scancel()
	log.Info("stopped")
	return code
}

// waitStop returns the exit code once the server fails (done) or a stop signal
// arrives; SIGHUP reloads the TLS files instead of stopping.
func waitStop(done <-chan error, signals <-chan os.Signal, tls *tlsconf.Server, log *slog.Logger) int {
	for {
		select {
		case err := <-done:
			log.Error("console failed", "err", err)
			return cli.ExitError
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				tlsconf.ReloadLogged(tls, log)
				continue
			}
			log.Info("stopping", "signal", sig.String())
			return cli.ExitOK
		}
	}
}
