package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/larsgo/lars/internal/cli"
	"github.com/larsgo/lars/internal/larsconf"
	"github.com/larsgo/lars/reportsvc"
	"github.com/larsgo/lars/store"
)

// DefaultDB is the store used when neither -db nor a conf file's [mysql] names one.
const DefaultDB = "sqlite:lars.db"

// options are the command-line flags.
type options struct {
	config, listen, db, admin string
	workers, queue, maxConns  int
	log                       cli.LogFlags
}

func parseFlags(args []string, stderr io.Writer) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := flag.NewFlagSet("lars-reporter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "Lars lars_reporter.conf: [reactor] ip, port, maxConn; [mysql] db_host, db_port, db_user, db_passwd, db_name; [repoter] db_thread_cnt; flags override it")
	fs.StringVar(&o.listen, "listen", reportsvc.DefaultListen, "TCP `HOST:PORT` agents report to (keep it on loopback or a trusted network: the protocol has no authentication)")
	fs.StringVar(&o.db, "db", DefaultDB, "store: sqlite:PATH, or a MySQL DSN user:pass@tcp(host:port)/lars_dns")
	fs.IntVar(&o.workers, "workers", reportsvc.DefaultWorkers, "database writers, each writing batches of its share of the rows (default [repoter] db_thread_cnt of -config, else 2)")
	fs.IntVar(&o.queue, "queue", reportsvc.DefaultQueueSize, "most rows waiting to be written; the latest status of a row replaces a queued one, and when full the oldest are dropped")
	fs.IntVar(&o.maxConns, "max-conns", reportsvc.DefaultMaxConns, "most agent connections open at once; more are closed and counted")
	fs.StringVar(&o.admin, "admin", "", "admin HTTP `HOST:PORT` for /metrics, /healthz, /debug/pprof/ (default off; keep it on loopback)")
	o.log.Register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: lars-reporter [flags]\n\nThe Lars report service: stores the call status agents report in ServerCallStatus.\n\nFlags:\n")
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
	cfg    reportsvc.Config
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
	s.cfg.Listen, s.cfg.MaxConns, s.cfg.Workers, s.cfg.QueueSize = o.listen, o.maxConns, o.workers, o.queue
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
		if conf.Reporter.DBThreadCnt > 0 && !set["workers"] {
			s.cfg.Workers = conf.Reporter.DBThreadCnt
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
	for _, v := range []struct {
		name string
		v    int
	}{{"-workers", s.cfg.Workers}, {"-queue", s.cfg.QueueSize}, {"-max-conns", s.cfg.MaxConns}} {
		if v.v <= 0 {
			return nil, fmt.Errorf("invalid %s %d: must be positive", v.name, v.v)
		}
	}
	if s.cfg.Workers > s.cfg.QueueSize {
		return nil, fmt.Errorf("invalid -workers %d: more than -queue %d", s.cfg.Workers, s.cfg.QueueSize)
	}
	s.cfg.Logger = logger
	return s, nil
}
