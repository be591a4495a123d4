package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/larsgo/lars/console"
	"github.com/larsgo/lars/internal/admin"
	"github.com/larsgo/lars/internal/cli"
	"github.com/larsgo/lars/internal/larsconf"
	"github.com/larsgo/lars/internal/secretsrc"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/store"
)

// Defaults of the flags.
const (
	DefaultDB     = "sqlite:lars.db"
	DefaultListen = "127.0.0.1:8080"
)

// options are the command-line flags.
type options struct {
	config, listen, db, token string
	initialPasswordFile       string
	sessionIdle, sessionMax   time.Duration
	admin                     string
	pageRows, maxPageRows     int
	groupReadable             bool
	log                       cli.LogFlags
	// The guard's flags: see guardFlags.
	dbFile, allowedHosts, trustedProxies, adminTokenFile string
	behindProxy                                          bool
	maxConns                                             int
	tls                                                  tlsconf.Files
}

func parseFlags(args []string, stderr io.Writer) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := flag.NewFlagSet("lars-console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "Lars conf file (lars_dns.conf): its [mysql] section names the route store unless -db is given")
	fs.StringVar(&o.db, "db", DefaultDB, "route store: sqlite:PATH, or a MySQL DSN user:pass@tcp(host:port)/lars_dns"+secretsrc.DBHelp)
	fs.BoolVar(&o.groupReadable, "group-readable", false, "create a missing SQLite store readable by its group (mode 0640) instead of its owner only (0600)")
	fs.StringVar(&o.listen, "listen", DefaultListen, "HTTP `HOST:PORT` of the console (every page needs a login wherever it listens)")
	fs.StringVar(&o.admin, "admin", "", "admin HTTP `HOST:PORT` for /metrics, /healthz, /debug/pprof/ (default off; :PORT binds loopback; keep it there or give -admin-token-file)")
	fs.IntVar(&o.pageRows, "page-rows", console.DefaultPageRows, "rows a page of a list (services, hosts, changes, names) shows")
	fs.IntVar(&o.maxPageRows, "max-page-rows", console.DefaultMaxPageRows, "the most rows a page shows when its URL asks for more (?n=)")
	fs.StringVar(&o.token, "token", "", "API token for scripts, given as \"Authorization: Bearer TOKEN\" in place of a login, with an editor's rights; at least 16 characters (default: $"+console.EnvToken+", which keeps it out of the process list; none: logins only)")
	fs.StringVar(&o.initialPasswordFile, "initial-password-file", "", "`FILE` a first start (no account yet) writes the random password of the account \"admin\" to, mode 0600 (default: "+console.InitialPasswordFileName+" beside a SQLite store, else in the working directory)")
	fs.DurationVar(&o.sessionIdle, "session-idle", console.DefaultSessionIdle, "a login session unused this long ends")
	fs.DurationVar(&o.sessionMax, "session-max", console.DefaultSessionMax, "a login session this old ends, however used")
	registerGuardFlags(fs, o)
	tlsconf.RegisterFlags(fs, &o.tls, true)
	o.log.Register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: lars-console [flags]\n\nThe web console of the route store: services, hosts, call status, changes, names.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, fs, nil
}

// settings is what serve needs.
type settings struct {
	dsn, listen, token    string
	initialPasswordFile   string
	sessionIdle           time.Duration
	sessionMax            time.Duration
	admin                 string // "" for none
	adminOpts             admin.Options
	guard                 console.GuardOptions
	pageRows, maxPageRows int
	groupReadable         bool
	logger                *slog.Logger
	// tls serves HTTPS (-tls-cert, -tls-key; -tls-ca asks every browser or script for
	// a client certificate too); nil serves plain HTTP.
	tls *tlsconf.Server
}

// buildSettings checks the flags and the conf file; getenv reads the token's
// environment variable.
func buildSettings(o *options, fs *flag.FlagSet, getenv func(string) string, stderr io.Writer) (*settings, error) {
	logger, err := o.log.Logger(stderr)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	s := &settings{dsn: o.db, listen: o.listen, token: o.token, pageRows: o.pageRows, maxPageRows: o.maxPageRows, admin: o.admin,
		groupReadable: o.groupReadable, logger: logger}
	if s.pageRows < 1 || s.maxPageRows < s.pageRows {
		return nil, fmt.Errorf("-page-rows %d and -max-page-rows %d: want 1 <= page-rows <= max-page-rows", s.pageRows, s.maxPageRows)
	}
	if !set["token"] {
		s.token = getenv(console.EnvToken)
	}
	src := secretsrc.DB{Flag: o.db, FlagSet: set["db"], DBFile: o.dbFile, Getenv: getenv}
	if o.config != "" {
		conf, err := larsconf.Load(o.config)
		if err != nil {
			return nil, err
		}
		src.Conf, src.ConfOK = conf.DSN()
	}
	if s.dsn, _, err = src.DSN(); err != nil {
		return nil, err
	}
	if err := guardSettings(o, s); err != nil {
		return nil, err
	}
	if err := cli.CheckHostPort("-listen", s.listen, true); err != nil {
		return nil, err
	}
	if s.admin != "" {
		if err := cli.CheckHostPort("-admin", s.admin, true); err != nil {
			return nil, err
		}
	}
	if err := store.CheckDSN(s.dsn); err != nil {
		return nil, fmt.Errorf("-db: %w", err)
	}
	if err := console.CheckToken(s.token); err != nil {
		return nil, err
	}
	if o.sessionIdle <= 0 || o.sessionMax < o.sessionIdle {
		return nil, fmt.Errorf("-session-idle %v and -session-max %v: want 0 < session-idle <= session-max", o.sessionIdle, o.sessionMax)
	}
	if s.tls, err = consoleTLS(o.tls); err != nil {
		return nil, err
	}
	s.sessionIdle, s.sessionMax = o.sessionIdle, o.sessionMax
	s.initialPasswordFile = o.initialPasswordFile
	if s.initialPasswordFile == "" {
		s.initialPasswordFile = console.DefaultInitialPasswordFile(s.dsn)
	}
	return s, nil
}

// consoleTLS loads the console's certificate (larsctl tls cert create -console) when
// -tls-cert, -tls-key or -tls-ca is given; nil without them. The console takes its TLS
// files from the flags only: the [tls] section of a -config file (lars_dns.conf) is
// lars-dns's own certificate.
func consoleTLS(f tlsconf.Files) (*tlsconf.Server, error) {
	if !f.Enabled() {
		return nil, nil
	}
	if f.Cert == "" || f.Key == "" {
		return nil, fmt.Errorf("-tls-cert and -tls-key: HTTPS needs both (given: cert %q, key %q)", f.Cert, f.Key)
	}
	srv, err := tlsconf.NewServer(f, 0)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert, -tls-key, -tls-ca: %w", err)
	}
	return srv, nil
}
