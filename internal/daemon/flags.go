package daemon

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/larsgo/lars/internal/cli"
	"github.com/larsgo/lars/internal/httpguard"
	"github.com/larsgo/lars/internal/larsconf"
	"github.com/larsgo/lars/internal/secretsrc"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/store"
)

// DefaultDB is the store used when neither -db nor a conf file's [mysql] names one.
const DefaultDB = "sqlite:lars.db"

// Flags are the flags every control-plane daemon has: -config (a Lars conf file),
// -listen, -db, -db-file, -group-readable, -max-conns, -admin, -allowed-hosts,
// -admin-token-file, -shutdown-limit, -tls-cert, -tls-key, -tls-ca, -policy and the log
// flags.
type Flags struct {
	Config, Listen, DB, DBFile, Admin string
	AllowedHosts, AdminTokenFile      string
	GroupReadable                     bool
	MaxConns                          int
	ShutdownLimit                     time.Duration
	Log                               cli.LogFlags
	// TLS names the service's TLS files: -tls-cert, -tls-key, -tls-ca.
	TLS tlsconf.Files
	// Policy is the authorization policy file (-policy), "" for none.
	Policy string
	// Getenv reads $LARS_DB (default os.Getenv).
	Getenv func(string) string
}

// minAdminToken is the shortest token -admin-token-file takes.
const minAdminToken = 16

// Register declares the flags on fs. conf names the Lars conf file and the sections it
// reads, listen, maxConns and stopLimit are the service's defaults, listenHelp says
// what connects.
func (f *Flags) Register(fs *flag.FlagSet, conf, listen, listenHelp string, maxConns int, stopLimit time.Duration) {
	fs.StringVar(&f.Config, "config", "", conf+"; flags given on the command line override it")
	fs.StringVar(&f.Listen, "listen", listen, "TCP `HOST:PORT` "+listenHelp+" (without -tls-ca the protocol has no authentication: keep it on loopback or a trusted network)")
	fs.StringVar(&f.DB, "db", DefaultDB, "store: sqlite:PATH, or a MySQL DSN user:pass@tcp(host:port)/lars_dns"+secretsrc.DBHelp)
	fs.StringVar(&f.DBFile, "db-file", "", "`FILE` whose first line is the store's DSN, in place of -db (default: -config's [mysql], else $"+secretsrc.EnvDB+", else the -db default)")
	fs.BoolVar(&f.GroupReadable, "group-readable", false, "create a missing SQLite store readable by its group (mode 0640) instead of its owner only (0600)")
	fs.IntVar(&f.MaxConns, "max-conns", maxConns, "most agent connections open at once; at the limit a new one replaces the longest silent one, or is closed, and counted (default: what the open-file limit, raised at start to its hard limit, allows, at most the value shown)")
	fs.StringVar(&f.Admin, "admin", "", "admin HTTP `HOST:PORT` for /metrics, /healthz, /debug/pprof/ (default off; :PORT binds loopback; keep it there or give -admin-token-file)")
	fs.StringVar(&f.AllowedHosts, "allowed-hosts", "", "comma-separated host `names` the admin endpoint answers besides loopback names and its -admin address (any other Host header: 421, which defeats DNS rebinding)")
	fs.StringVar(&f.AdminTokenFile, "admin-token-file", "", "`FILE` whose first line (at least 16 characters) is a bearer token every admin request needs (Authorization: Bearer TOKEN)")
	fs.DurationVar(&f.ShutdownLimit, "shutdown-limit", stopLimit, "how long a stop signal (SIGTERM, SIGINT) leaves the service to finish and close; past it the service exits 1")
	tlsconf.RegisterFlags(fs, &f.TLS, true)
	fs.StringVar(&f.Policy, "policy", "", "authorization policy `FILE` (needs -tls-ca): which certificate identities may do what for which services, deny by default; reloaded on SIGHUP (docs: package internal/policy)")
	f.Log.Register(fs)
}

// Resolved are the common settings once the conf file is read under the flags.
type Resolved struct {
	Settings        // Name left for the caller; StopLimit is -shutdown-limit
	Listen   string // -listen, else [reactor] ip and port
	MaxConns int    // -max-conns, else [reactor] maxConn
	// Conf is the conf file, nil without -config; Set names the flags given on the
	// command line, which win over it.
	Conf *larsconf.Conf
	Set  map[string]bool
}

// Resolve reads the conf file when -config names one, lets every flag given on the
// command line (fs) override it, and checks the result: one error naming the problem.
func (f *Flags) Resolve(fs *flag.FlagSet, stderr io.Writer) (*Resolved, error) {
	logger, err := f.Log.Logger(stderr)
	if err != nil {
		return nil, err
	}
	if f.ShutdownLimit <= 0 {
		return nil, fmt.Errorf("invalid -shutdown-limit %v: must be positive", f.ShutdownLimit)
	}
	r := &Resolved{Settings: Settings{GroupReadable: f.GroupReadable, Admin: f.Admin, Logger: logger, StopLimit: f.ShutdownLimit}, Listen: f.Listen,
		MaxConns: f.MaxConns, Set: map[string]bool{}}
	fs.Visit(func(fl *flag.Flag) { r.Set[fl.Name] = true })
	if f.Config != "" {
		if r.Conf, err = larsconf.Load(f.Config); err != nil {
			return nil, err
		}
		if addr, ok := r.Conf.ListenAddr(); ok && !r.Set["listen"] {
			r.Listen = addr
		}
		if r.Conf.Reactor.MaxConn > 0 && !r.Set["max-conns"] {
			r.MaxConns = r.Conf.Reactor.MaxConn
		}
	}
	if err := f.resolveSecrets(r); err != nil {
		return nil, err
	}
	if err := f.resolveTLS(r); err != nil {
		return nil, err
	}
	if err := f.resolvePolicy(r); err != nil {
		return nil, err
	}
	if err := cli.CheckHostPort("-listen", r.Listen, true); err != nil {
		return nil, err
	}
	if r.Admin != "" {
		if err := cli.CheckHostPort("-admin", r.Admin, true); err != nil {
			return nil, err
		}
	}
	if err := store.CheckDSN(r.DSN); err != nil {
		return nil, fmt.Errorf("-db: %w", err)
	}
	if r.MaxConns <= 0 {
		return nil, fmt.Errorf("invalid -max-conns %d: must be positive", r.MaxConns)
	}
	r.fitMaxConns(r.Set["max-conns"] || (r.Conf != nil && r.Conf.Reactor.MaxConn > 0))
	return r, nil
}

// resolveSecrets sets the DSN (-db, -db-file, the conf file, $LARS_DB, the default)
// and the admin endpoint's options (-allowed-hosts, -admin-token-file).
func (f *Flags) resolveSecrets(r *Resolved) error {
	src := secretsrc.DB{Flag: f.DB, FlagSet: r.Set["db"], DBFile: f.DBFile, Getenv: f.Getenv}
	if src.Getenv == nil {
		src.Getenv = os.Getenv
	}
	if r.Conf != nil {
		src.Conf, src.ConfOK = r.Conf.DSN()
	}
	var err error
	if r.DSN, _, err = src.DSN(); err != nil {
		return err
	}
	if r.AdminOptions.AllowedHosts, err = httpguard.ParseHosts(f.AllowedHosts); err != nil {
		return fmt.Errorf("-allowed-hosts: %w", err)
	}
	if f.AdminTokenFile != "" {
		if r.AdminOptions.Token, err = secretsrc.Token("-admin-token-file", f.AdminTokenFile, minAdminToken); err != nil {
			return err
		}
	}
	return nil
}

// fitMaxConns raises the open-file limit to its hard limit and, unless the operator
// chose the bound (chosen), lowers MaxConns to what that limit allows. What it did is
// logged by Main at start (a warning when a chosen bound is above what the limit allows).
func (r *Resolved) fitMaxConns(chosen bool) {
	limit, err := raiseFileLimit()
	if err != nil {
		r.note(slog.LevelWarn, "open-file limit", "err", err)
	}
	if limit == 0 {
		return
	}
	allowed := connsAllowed(limit, r.MaxConns)
	switch {
	case !chosen:
		r.MaxConns = allowed
		r.note(slog.LevelInfo, "max-conns from the open-file limit", "max_conns", allowed, "open_file_limit", limit)
	case allowed < r.MaxConns:
		r.note(slog.LevelWarn, "max-conns is above what the open-file limit allows: connections past it fail at accept",
			"max_conns", r.MaxConns, "open_file_limit", limit, "allowed", allowed)
	}
}

// Parse parses args with fs, whose usage names the command and says what it is
// (summary); an argument left over is an error.
func Parse(fs *flag.FlagSet, args []string, stderr io.Writer, summary string) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s [flags]\n\n%s\n\nFlags:\n", fs.Name(), summary)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// UsageExit is the exit code for an error of Parse or of the settings: 0 after -h,
// else the error in one line on stderr and cli.ExitUsage.
func UsageExit(stderr io.Writer, name string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return cli.ExitUsage
}
