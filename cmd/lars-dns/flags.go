package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/larsgo/lars/internal/daemon"
	"github.com/larsgo/lars/routesvc"
)

// options are the route service's own flags.
type options struct {
	watch, poll, reload     time.Duration
	retention               time.Duration
	idleTimeout             time.Duration
	maxSubsPerConn, maxSubs int
	maxUnknownSubsPerConn   int
	// registration (issue 31)
	allowRegister               bool
	leaseFlush                  time.Duration
	minLeaseTTL, maxLeaseTTL    time.Duration
	maxLeasesPerConn, maxLeases int
}

// ownFlags declares the route service's flags on fs and returns what makes its
// configuration of them.
func ownFlags(fs *flag.FlagSet) func(r *daemon.Resolved) (routesvc.Config, error) {
	o := &options{}
	fs.DurationVar(&o.watch, "watch", routesvc.DefaultWatch, "how often SQLite's change counter is read (a few microseconds); a commit makes the service read the change rows at once")
	fs.DurationVar(&o.poll, "poll", 0, "how often the store's version and change rows are read whatever the counter says "+
		"(default 0: 1s on SQLite; 2ms on MySQL/MariaDB, which has no change counter: about 430 light queries a second)")
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
	fs.BoolVar(&o.allowRegister, "allow-register", false,
		"without -policy, let any agent register instances of any service (trusted networks only: anyone who reaches the port can then put an address into any route); with -policy its register rules decide")
	fs.DurationVar(&o.leaseFlush, "lease-flush", routesvc.DefaultLeaseFlush,
		"how often renewals of leases near their end are written to the store in batches, and ended leases expired")
	fs.DurationVar(&o.minLeaseTTL, "min-lease-ttl", routesvc.DefaultMinLeaseTTL, "the shortest ttl a registration may ask")
	fs.DurationVar(&o.maxLeaseTTL, "max-lease-ttl", routesvc.DefaultMaxLeaseTTL, "the longest ttl a registration may ask")
	fs.IntVar(&o.maxLeasesPerConn, "max-leases-per-conn", routesvc.DefaultMaxLeasesPerConn,
		"registrations one agent connection may keep; past it they are refused (counted)")
	fs.IntVar(&o.maxLeases, "max-leases", routesvc.DefaultMaxLeases,
		"leases this service holds in memory; past it registrations are answered LEASE_FAILED and retried (counted)")
	return o.config
}

// config checks the flags and returns the service's configuration, with the common
// settings r.
func (o *options) config(r *daemon.Resolved) (routesvc.Config, error) {
	err := daemon.FirstError(daemon.Positive("watch", o.watch), daemon.NotNegative("poll", o.poll, "the store's default"), daemon.Positive("reload", o.reload),
		daemon.NotNegative("retention", o.retention, "keep"),
		daemon.Positive("max-subs-per-conn", o.maxSubsPerConn), daemon.Positive("max-unknown-subs-per-conn", o.maxUnknownSubsPerConn),
		daemon.Positive("max-subs", o.maxSubs), daemon.NotNegative("idle-timeout", o.idleTimeout, "never"),
		daemon.Positive("lease-flush", o.leaseFlush), daemon.Positive("min-lease-ttl", o.minLeaseTTL),
		daemon.Positive("max-lease-ttl", o.maxLeaseTTL), daemon.Positive("max-leases-per-conn", o.maxLeasesPerConn),
		daemon.Positive("max-leases", o.maxLeases))
	if err == nil && o.minLeaseTTL > o.maxLeaseTTL {
		err = fmt.Errorf("-min-lease-ttl %v is above -max-lease-ttl %v", o.minLeaseTTL, o.maxLeaseTTL)
	}
	if err != nil {
		return routesvc.Config{}, err
	}
	cfg := routesvc.Config{Listen: r.Listen, MaxConns: r.MaxConns, Watch: o.watch, Poll: o.poll, Reload: o.reload,
		Retention: o.retention, IdleTimeout: o.idleTimeout, MaxSubsPerConn: o.maxSubsPerConn,
		MaxUnknownSubsPerConn: o.maxUnknownSubsPerConn, MaxSubs: o.maxSubs, TLS: r.TLS, Policy: r.Policy, Logger: r.Logger,
		AllowRegister: o.allowRegister, LeaseFlush: o.leaseFlush, MinLeaseTTL: o.minLeaseTTL, MaxLeaseTTL: o.maxLeaseTTL,
		MaxLeasesPerConn: o.maxLeasesPerConn, MaxLeases: o.maxLeases}
	if o.retention == 0 {
		cfg.Retention = -1 // keep change rows forever
	}
	if o.idleTimeout == 0 {
		cfg.IdleTimeout = -1 // never close a connection for silence
	}
	return cfg, nil
}
