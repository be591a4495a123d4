package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/larsgo/lars/internal/cli"
	"github.com/larsgo/lars/internal/larsconf"
	"github.com/larsgo/lars/routesvc"
	"github.com/larsgo/lars/store"
)

// DefaultDB is the store used when neither -db nor a conf file's [mysql] names one.
const DefaultDB = "sqlite:lars.db"

// options are the command-line flags.
type options struct {
	config, listen, db, admin string
	poll, reload, retention   time.Duration
	maxConns                  int
	log                       cli.LogFlags
}

func parseFlags(args []string, stderr io.Writer) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := flag.NewFlagSet("lars-dns", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "Lars lars_dns.conf: [reactor] ip, port, maxConn; [mysql] db_host, db_port, db_user, db_passwd, db_name; flags override it")
	fs.StringVar(&o.listen, "listen", routesvc.DefaultListen, "TCP `HOST:PORT` agents connect to (keep it on loopback or a trusted network: the protocol has no authentication)")
	fs.StringVar(&o.db, "db", DefaultDB, "route store: sqlite:PATH, or a MySQL DSN user:pass@tcp(host:port)/lars_dns")
	fs.DurationVar(&o.poll, "poll", routesvc.DefaultPoll, "how often the store's version and change rows are read")
	fs.DurationVar(&o.reload, "reload", routesvc.DefaultReload, "how often every route is read again and compared (catches writers without change rows)")
	fs.DurationVar(&o.retention, "retention", routesvc.DefaultRetention, "how long change rows are kept before this service deletes them (0: never)")
	fs.IntVar(&o.maxConns, "max-conns", routesvc.DefaultMaxConns, "most agent connections open at once; more are closed and counted")
	fs.StringVar(&o.admin, "admin", "", "admin HTTP `HOST:PORT` for /metrics, /healthz, /routes, /debug/pprof/ (default off; keep it on loopback)")
	o.log.Register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: lars-dns [flags]\n\nThe Lars route service: serves the route store to agents and pushes its changes.\n\nFlags:\n")
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

// settings is what run needs, from the conf file and the flags over it.
type settings struct {
	cfg    routesvc.Config
	dsn    string
	admin  string
	logger *slog.Logger
}

// buildSettings checks the flags, reads the conf file when given, and lets every flag
// set on the command line override it.
func buildSettings(o *options, fs *flag.FlagSet, stderr io.Writer) (*settings, error) {
	logger, err := o.log.Logger(stderr)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	s := &settings{logger: logger, dsn: o.db, admin: o.admin}
	s.cfg.Listen, s.cfg.MaxConns = o.listen, o.maxConns
	if o.config != "" {
		conf, err := larsconf.Load(o.config)
		if err != nil {
			return nil, err
		}
		if addr, ok := conf.ListenAddr(); ok && !set["listen"] {
			s.cfg.Listen = addr
		}
		if dsn, ok := conf.DSN(); ok && !set["db"] {
			s.dsn = dsn
		}
		if conf.Reactor.MaxConn > 0 && !set["max-conns"] {
			s.cfg.MaxConns = conf.Reactor.MaxConn
		}
	}
	if err := cli.CheckHostPort("-listen", s.cfg.Listen, true); err != nil {
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
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"-poll", o.poll}, {"-reload", o.reload}} {
		if d.v <= 0 {
			return nil, fmt.Errorf("invalid %s %v: must be positive", d.name, d.v)
		}
	}
	if o.retention < 0 {
		return nil, fmt.Errorf("invalid -retention %v: must be 0 (keep) or positive", o.retention)
	}
	if s.cfg.MaxConns <= 0 {
		return nil, fmt.Errorf("invalid -max-conns %d: must be positive", s.cfg.MaxConns)
	}
	s.cfg.Poll, s.cfg.Reload, s.cfg.Retention = o.poll, o.reload, o.retention
	if o.retention == 0 {
		s.cfg.Retention = -1 // keep change rows forever
	}
	s.cfg.Logger = logger
	return s, nil
}
