package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/larsgo/lars/internal/daemon"
	"github.com/larsgo/lars/routesvc"
)

// options are the command-line flags.
type options struct {
	daemon.Flags
	poll, reload, retention time.Duration
	idleTimeout             time.Duration
	maxSubsPerConn, maxSubs int
	maxUnknownSubsPerConn   int
}

func parseFlags(args []string, stderr io.Writer) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := flag.NewFlagSet("lars-dns", flag.ContinueOnError)
	o.Register(fs, "Lars lars_dns.conf: [reactor] ip, port, maxConn; [mysql] db_host, db_port, db_user, db_passwd, db_name; [tls] cert, key, ca",
		routesvc.DefaultListen, "agents connect to", routesvc.DefaultMaxConns, shutdownLimit)
	fs.DurationVar(&o.poll, "poll", routesvc.DefaultPoll, "how often the store's version and change rows are read")
	fs.DurationVar(&o.reload, "reload", routesvc.DefaultReload, "how often every route is read again and compared (catches writers without change rows)")
	fs.DurationVar(&o.retention, "retention", routesvc.DefaultRetention, "how long change rows are kept before this service deletes them (0: never)")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", routesvc.DefaultIdleTimeout,
		"close a connection that sends no valid frame for this long, unless it holds a subscription (0: never); our agents send a keepalive at a third of it")
	fs.IntVar(&o.maxSubsPerConn, "max-subs-per-conn", routesvc.DefaultMaxSubsPerConn,
		"subscriptions one connection may hold; past it pulls are answered but not subscribed (counted)")
	fs.IntVar(&o.maxUnknownSubsPerConn, "max-unknown-subs-per-conn", routesvc.DefaultMaxUnknownSubsPerConn,
		"subscriptions one connection may hold to keys that have no hosts; past it such pulls are answered but not subscribed (counted)")
	fs.IntVar(&o.maxSubs, "max-subs", routesvc.DefaultMaxSubs,
		"subscriptions all connections may hold together; past it pulls are answered but not subscribed (counted)")
	err := daemon.Parse(fs, args, stderr, "The Lars route service: serves the route store to agents and pushes its changes.")
	return o, fs, err
}

// settings is what run needs, from the conf file and the flags over it.
type settings struct {
	daemon.Settings
	cfg routesvc.Config
}

// buildSettings checks the flags, reads the conf file when given, and lets every flag
// set on the command line override it.
func buildSettings(o *options, fs *flag.FlagSet, stderr io.Writer) (*settings, error) {
	r, err := o.Resolve(fs, stderr)
	if err != nil {
		return nil, err
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
	for _, b := range []struct {
		name string
		v    int
	}{{"-max-subs-per-conn", o.maxSubsPerConn}, {"-max-unknown-subs-per-conn", o.maxUnknownSubsPerConn}, {"-max-subs", o.maxSubs}} {
		if b.v <= 0 {
			return nil, fmt.Errorf("invalid %s %d: must be positive", b.name, b.v)
		}
	}
	if o.idleTimeout < 0 {
		return nil, fmt.Errorf("invalid -idle-timeout %v: must be 0 (never) or positive", o.idleTimeout)
	}
	s := &settings{Settings: r.Settings}
	s.cfg = routesvc.Config{Listen: r.Listen, MaxConns: r.MaxConns, Poll: o.poll, Reload: o.reload,
		Retention: o.retention, IdleTimeout: o.idleTimeout, MaxSubsPerConn: o.maxSubsPerConn,
		MaxUnknownSubsPerConn: o.maxUnknownSubsPerConn, MaxSubs: o.maxSubs, TLS: r.TLS, Policy: r.Policy, Logger: r.Logger}
	if o.retention == 0 {
		s.cfg.Retention = -1 // keep change rows forever
	}
	if o.idleTimeout == 0 {
		s.cfg.IdleTimeout = -1 // never close a connection for silence
	}
	return s, nil
}
