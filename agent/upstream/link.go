package upstream

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/internal/backoff"
	"github.com/larsgo/lars/internal/logthrottle"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/internal/tlsgen"
)

// Defaults shared by both clients' configs.
const (
	DefaultRouteAddr    = "127.0.0.1:7778" // the Lars route service ("dns")
	DefaultReportAddr   = "127.0.0.1:7779" // the Lars report service ("reporter")
	DefaultDialTimeout  = time.Second
	DefaultWriteTimeout = 5 * time.Second
	DefaultResetAfter   = 10 * time.Second
	DefaultMinBackoff   = backoff.DefaultMin // first delay between reconnection attempts (100ms)
	DefaultMaxBackoff   = 5 * time.Second    // cap of that delay
)

// logEvery is how often a throttled log line may repeat (failed dials, bad frames).
const logEvery = 10 * time.Second

// Link are the connection settings both clients share. Its zero value is the defaults.
type Link struct {
	// Logger receives connection events, throttled. Default slog.Default().
	Logger *slog.Logger
	// DialTimeout bounds one connection attempt. Default 1s.
	DialTimeout time.Duration
	// MinBackoff is the first delay between reconnection attempts; it doubles on each
	// failure up to MaxBackoff and is jittered (EqualJitter). Default 100ms.
	MinBackoff time.Duration
	// MaxBackoff caps the delay between reconnection attempts. Default 5s.
	MaxBackoff time.Duration
	// ResetAfter is how long a connection must have lived for the backoff to start
	// over from MinBackoff when it is lost. Default 10s.
	ResetAfter time.Duration
	// WriteTimeout bounds one write; a service that does not read for that long is
	// taken as gone and the connection is closed. Default 5s.
	WriteTimeout time.Duration
	// TLS, when set, makes every connection TLS, its handshake within DialTimeout: the
	// service's certificate must name the address dialed and be signed by the client's
	// CA, and the client's certificate, if any, is the agent's identity. A handshake
	// that fails counts as a failed dial. Nil: plain Lars framing.
	TLS *tlsconf.Client
}

// config returns the link configuration for the service name at addrs (tried in
// order), with every zero setting at its default.
func (l Link) config(name string, addrs []string) linkConfig {
	return linkConfig{
		name:         name,
		addrs:        addrs,
		logger:       l.Logger,
		tls:          l.TLS,
		dialTimeout:  orDuration(l.DialTimeout, DefaultDialTimeout),
		writeTimeout: orDuration(l.WriteTimeout, DefaultWriteTimeout),
		resetAfter:   orDuration(l.ResetAfter, DefaultResetAfter),
		backoff: backoff.New(orDuration(l.MinBackoff, DefaultMinBackoff),
			orDuration(l.MaxBackoff, DefaultMaxBackoff), backoff.EqualJitter, nil),
	}
}

// linkConfig is what both clients need to keep one TCP connection up.
type linkConfig struct {
	name         string   // "route service" or "report service", for logs
	addrs        []string // the service's addresses, at least one, tried in order
	logger       *slog.Logger
	dialTimeout  time.Duration
	writeTimeout time.Duration
	resetAfter   time.Duration
	backoff      *backoff.Backoff
	tls          *tlsconf.Client // nil: plaintext
}

// LinkStats are the connection counters of a client's link, part of both clients'
// stats.
type LinkStats struct {
	Connected   bool     // a connection is up
	Addr        string   // the address connected to; "" while disconnected
	Addrs       []string // the service's addresses, in the order they are tried; shared, read only
	Connects    uint64   // connections established
	Disconnects uint64   // connections lost (closed by the peer, failed, or closed on bad input)
	DialErrors  uint64   // failed connection attempts
	Failovers   uint64   // moves to another address after a failed dial or a lost connection
}

// stats returns the link's counters, each read atomically.
func (l *link) stats() LinkStats {
	st := LinkStats{
		Addrs:       l.addrs,
		Connects:    l.connects.Load(),
		Disconnects: l.disconnects.Load(),
		DialErrors:  l.dialErrors.Load(),
		Failovers:   l.failovers.Load(),
	}
	if i := l.connectedTo.Load(); i >= 0 {
		st.Connected, st.Addr = true, l.addrs[i]
	}
	return st
}

// link keeps the connection state and counters both clients share, and dials with
// throttled logging. Its methods are called from the client's Run goroutine, except
// the counters, which are atomics read by Stats.
//
// With several addresses, a failed dial or a lost connection moves the link to the
// next address at once (wrapping around); the backoff delay comes between rounds, once
// every address has failed in a row (see failed), so failing over costs no delay while
// a service down everywhere is tried no more often than a single address would be.
type link struct {
	linkConfig
	dialLog logthrottle.Throttle // failed dials
	errLog  logthrottle.Throttle // lost connections and bad input
	moveLog logthrottle.Throttle // failovers

	connectedTo atomic.Int32 // index in addrs of the connection up, -1 if none
	connects    atomic.Uint64
	disconnects atomic.Uint64
	dialErrors  atomic.Uint64
	failovers   atomic.Uint64

	// Run goroutine only:
	cur      int       // index in addrs of the address to dial next, or connected to
	failures int       // failed dials and lost connections since the last healthy connection
	upSince  time.Time // when the current connection was established
}

func newLink(c linkConfig) *link {
	if c.logger == nil {
		c.logger = slog.Default()
	}
	c.logger = c.logger.With("peer", c.name)
	l := &link{linkConfig: c, dialLog: logthrottle.Throttle{Every: logEvery},
		errLog: logthrottle.Throttle{Every: logEvery}, moveLog: logthrottle.Throttle{Every: logEvery}}
	l.connectedTo.Store(-1)
	return l
}

// addr returns the address the link dials next, or is connected to.
func (l *link) addr() string { return l.addrs[l.cur] }

// dial makes one connection attempt to the current address. Failures are counted and
// logged, throttled; an attempt cut short by ctx is neither.
func (l *link) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: l.dialTimeout}
	var conn net.Conn
	var err error
	if l.tls != nil {
		conn, err = l.dialTLS(ctx, &d)
	} else {
		conn, err = d.DialContext(ctx, "tcp", l.addr())
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		l.dialErrors.Add(1)
		if ok, held := l.dialLog.Allow(time.Now()); ok {
			l.logger.Warn("cannot connect", "addr", l.addr(), "err", err, "failed_since_last_log", held)
		}
		return nil, err
	}
	return conn, nil
}

// dialTLS connects to the current address with d and runs the TLS handshake. A
// service whose certificate has a role of the site other than server (a console's,
// which also proves a server) is refused: it is not lars-dns or lars-reporter. The
// result is a net.Conn that is nil, not a nil *tls.Conn, on an error.
func (l *link) dialTLS(ctx context.Context, d *net.Dialer) (net.Conn, error) {
	tc, err := l.tls.Dial(ctx, d, "tcp", l.addr())
	if err != nil {
		return nil, err
	}
	if p, ok := tlsconf.Identity(tc); ok && p.Role != "" && p.Role != tlsgen.RoleServer {
		tc.Close()
		return nil, fmt.Errorf("%s presented the certificate of %s, not of a service (role %s)", l.addr(), p, tlsgen.RoleServer)
	}
	return tc, nil
}

// up records a new connection to the current address, conn, naming the service's
// verified identity when it has one (TLS).
func (l *link) up(conn net.Conn) {
	l.upSince = time.Now()
	l.connects.Add(1)
	l.connectedTo.Store(int32(l.cur))
	l.dialLog.Reset()
	l.moveLog.Reset()
	if p, ok := tlsconf.Identity(conn); ok {
		l.logger.Info("connected", "addr", l.addr(), "peer", p.String())
		return
	}
	l.logger.Info("connected", "addr", l.addr())
}

// down records the loss of the connection, cause being why (nil at shutdown). A
// connection that lived ResetAfter counts as healthy: the backoff and the count of
// failures start over.
func (l *link) down(cause error) {
	l.connectedTo.Store(-1)
	if cause == nil {
		return
	}
	l.disconnects.Add(1)
	if time.Since(l.upSince) >= l.resetAfter {
		l.backoff.Reset()
		l.failures = 0
	}
	if ok, held := l.errLog.Allow(time.Now()); ok {
		l.logger.Warn("connection lost", "addr", l.addr(), "err", cause, "lost_since_last_log", held)
	}
}

// failed records a failed dial or a lost connection and moves to the next address. It
// returns whether a whole round of addresses has now failed in a row, after which the
// caller waits before dialling again.
func (l *link) failed() (roundDone bool) {
	l.failures++
	if len(l.addrs) > 1 {
		from := l.addr()
		l.cur = (l.cur + 1) % len(l.addrs)
		l.failovers.Add(1)
		if ok, held := l.moveLog.Allow(time.Now()); ok {
			l.logger.Info("failing over", "from", from, "to", l.addr(), "failovers_since_last_log", held)
		}
	}
	return l.failures%len(l.addrs) == 0
}

// wait sleeps for the next backoff delay; it returns false if ctx ended first.
func (l *link) wait(ctx context.Context) bool {
	t := time.NewTimer(l.backoff.Next())
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func orDuration(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}
