package routesvc

import (
	"context"
	"log/slog"
	"time"

	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// Defaults of Config.
const (
	DefaultListen = "127.0.0.1:7778"
	DefaultPoll   = time.Second
	// DefaultPollUnsignalled is Poll on a store without a change signal
	// (MySQL/MariaDB), where the stamp is the signal: measured idle with 10,000 agents,
	// 434 reads a second, 3.8% of a core of mariadbd and 8.4% of lars-dns's
	// (PERFORMANCE.md, issue 30).
	DefaultPollUnsignalled = 2 * time.Millisecond
	DefaultWatch           = time.Millisecond
	DefaultReload          = time.Minute
	DefaultRetention       = 10 * time.Minute
	DefaultMaxConns        = 65536
	DefaultMaxQueueBytes   = 4 << 20
	DefaultWriteTimeout    = 5 * time.Second
	DefaultMaxBackoff      = 30 * time.Second
	DefaultIdleTimeout     = 2 * time.Minute
	// DefaultMaxSubsPerConn is far above the keys one agent serves (its callers' keys).
	DefaultMaxSubsPerConn = 100000
	// DefaultMaxUnknownSubsPerConn is far above the keys an agent is asked for before
	// they exist (a service being deployed).
	DefaultMaxUnknownSubsPerConn = 10000
	// DefaultMaxSubs allows 50 agents at DefaultMaxSubsPerConn, or 5,000 of 1,000 keys.
	DefaultMaxSubs = 5000000
	// DefaultMinLeaseTTL and DefaultMaxLeaseTTL bound the ttl of a registration.
	DefaultMinLeaseTTL = time.Second
	DefaultMaxLeaseTTL = time.Hour
	// DefaultLeaseFlush is how often renewals due are written and ended leases expired.
	DefaultLeaseFlush = 250 * time.Millisecond
	// DefaultMaxLeasesPerConn is far above the instances of one machine.
	DefaultMaxLeasesPerConn = 10000
	// DefaultMaxLeases bounds the leases held in memory (about 200 bytes each).
	DefaultMaxLeases = 1000000
	// DefaultLeaseQueue is how many Lease frames may wait for the store.
	DefaultLeaseQueue = 4096
	// DefaultLeaseWorkers is how many Lease frames are written to the store at once:
	// one, since registrations take the route lock anyway, and more writers only make
	// an operator's write wait longer behind them (SQLite's lock is not fair).
	DefaultLeaseWorkers = 1
)

// Store is what the service reads from the route store; *store.DB implements it.
type Store interface {
	Stamp(ctx context.Context) (store.Stamp, error)
	ScanRoutes(ctx context.Context, fn func(route.Key, route.Host)) error
	Routes(ctx context.Context, keys []route.Key) (map[route.Key][]route.Host, error)
	ChangesAfter(ctx context.Context, afterID uint64, limit int) ([]store.Change, error)
	DeleteChangesBefore(ctx context.Context, version uint64) (int64, error)
}

var _ Store = (*store.DB)(nil)

// Config configures a Service. Its zero value works but for Store.
type Config struct {
	// Store is the route store. Required.
	Store Store
	// Listen is the TCP address agents connect to. Default 127.0.0.1:7778.
	Listen string
	// Watch is how often the store's change signal is read, where it has one (SQLite's
	// change counter, a few microseconds a read): when it moves the stamp is read at
	// once. Default 1ms.
	Watch time.Duration
	// Poll is how often the store's stamp (its version, newest and oldest change ids)
	// is read whatever the signal says. Default 1s on a store with a change signal;
	// DefaultPollUnsignalled (2ms) on one without (MySQL/MariaDB).
	Poll time.Duration
	// Reload is how often every route is read again and compared with what is served,
	// to catch writers that changed routes without RouteChange rows. Default 1m.
	Reload time.Duration
	// Retention is how long RouteChange rows are kept (by their version, a Unix time in
	// Lars's convention) before this service deletes them; every instance on the store
	// sees a change as long as it polls more often than that. Negative: never delete.
	// Default 10m.
	Retention time.Duration
	// MaxConns bounds the open agent connections; more are closed at once and counted.
	// Default 65536.
	MaxConns int
	// MaxQueueBytes bounds each connection's queue of frames to write. A push that
	// would overflow it closes the connection (counted as slow): the agent reconnects
	// and pulls again. Default 4 MiB.
	MaxQueueBytes int
	// WriteTimeout is how long one write may block before its connection is closed as
	// slow. Default 5s.
	WriteTimeout time.Duration
	// MaxBackoff caps the delay between attempts while the store is unreachable (it
	// starts at Poll and doubles). Default 30s.
	MaxBackoff time.Duration
	// MaxSubsPerConn bounds the subscriptions of one connection, MaxUnknownSubsPerConn
	// those of one connection to keys without hosts, and MaxSubs those of all: past
	// them a pull is answered but no subscription is recorded (the agent then gets no
	// pushes of that key), counted. A subscription costs about 24 bytes, 95 to a key
	// without hosts (TestMemoryPerSubscription). Defaults 100,000, 10,000 and 5,000,000.
	MaxSubsPerConn        int
	MaxUnknownSubsPerConn int
	MaxSubs               int
	// IdleTimeout closes a connection that sent no valid frame for that long, unless it
	// holds a subscription (a Lars agent that pulled and waits for pushes sends nothing
	// else). Our agents send a Hello as a keepalive at a third of it, as the HelloReply
	// tells them. Negative: never. Default 2m.
	IdleTimeout time.Duration
	// TLS, when set, makes every connection TLS: with a CA (Mutual), every agent
	// proves itself with a certificate the CA signed, and its identity is in the log.
	// Refused handshakes, plaintext clients among them, are counted in /metrics
	// (lars_dns_tls_*). Nil: plain Lars framing, as the C++ agents speak.
	TLS *tlsconf.Server
	// Policy, when set (TLS must then be mutual), decides who is served which routes:
	// a connection whose identity no pull rule names is closed before its first frame,
	// counted; a pull of a service the identity may not pull is answered as a service
	// with no hosts, not subscribed, counted. A reload of the policy applies to open
	// connections at their next pull (their subscriptions made before it stay).
	Policy *policy.Live
	// AllowRegister, without a Policy, lets any agent register instances (Lease
	// frames) of any service: for trusted networks only, since anyone who reaches the
	// port can then put an address into any route. With a Policy, its register rules
	// decide instead and AllowRegister is ignored. Neither: every registration is
	// refused (LEASE_DENIED, counted). FEATURE_REGISTER is advertised either way.
	AllowRegister bool
	// MinLeaseTTL and MaxLeaseTTL bound the ttl an entry may ask; outside, it is
	// LEASE_INVALID. Defaults 1s and 1h.
	MinLeaseTTL time.Duration
	MaxLeaseTTL time.Duration
	// LeaseFlush is how often the renewals answered from memory whose lease nears its
	// end (within half its ttl) are written to the store, in batches, and the leases
	// that ended are expired. Default 250ms.
	LeaseFlush time.Duration
	// MaxLeasesPerConn bounds the leases one connection keeps (more: LEASE_DENIED) and
	// MaxLeases those the service holds in memory (more: LEASE_FAILED, retried), both
	// counted. Defaults 10,000 and 1,000,000.
	MaxLeasesPerConn int
	MaxLeases        int
	// LeaseQueue bounds the Lease frames waiting for the store (a full queue answers
	// LEASE_FAILED "busy", counted), and LeaseWorkers are the goroutines that write
	// them. Defaults 4096 and 1.
	LeaseQueue   int
	LeaseWorkers int
	// Logger receives the service's events. Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	c.Watch = orDuration(c.Watch, DefaultWatch)
	c.Reload = orDuration(c.Reload, DefaultReload)
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxQueueBytes <= 0 {
		c.MaxQueueBytes = DefaultMaxQueueBytes
	}
	c.WriteTimeout = orDuration(c.WriteTimeout, DefaultWriteTimeout)
	c.MaxBackoff = orDuration(c.MaxBackoff, DefaultMaxBackoff)
	if c.MaxSubsPerConn <= 0 {
		c.MaxSubsPerConn = DefaultMaxSubsPerConn
	}
	if c.MaxUnknownSubsPerConn <= 0 {
		c.MaxUnknownSubsPerConn = DefaultMaxUnknownSubsPerConn
	}
	if c.MaxSubs <= 0 {
		c.MaxSubs = DefaultMaxSubs
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	c.MinLeaseTTL = orDuration(c.MinLeaseTTL, DefaultMinLeaseTTL)
	c.MaxLeaseTTL = orDuration(c.MaxLeaseTTL, DefaultMaxLeaseTTL)
	c.LeaseFlush = orDuration(c.LeaseFlush, DefaultLeaseFlush)
	c.MaxLeasesPerConn = orInt(c.MaxLeasesPerConn, DefaultMaxLeasesPerConn)
	c.MaxLeases = orInt(c.MaxLeases, DefaultMaxLeases)
	c.LeaseQueue = orInt(c.LeaseQueue, DefaultLeaseQueue)
	c.LeaseWorkers = orInt(c.LeaseWorkers, DefaultLeaseWorkers)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func orInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func orDuration(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}
