package upstream

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"
	"time"
)

// Defaults shared by both clients' configs.
const (
	DefaultRouteAddr    = "127.0.0.1:7778" // the Lars route service ("dns")
	DefaultReportAddr   = "127.0.0.1:7779" // the Lars report service ("reporter")
	DefaultDialTimeout  = time.Second
	DefaultWriteTimeout = 5 * time.Second
	DefaultResetAfter   = 10 * time.Second
	DefaultMinBackoff   = 100 * time.Millisecond // first delay between reconnection attempts
	DefaultMaxBackoff   = 5 * time.Second        // cap of that delay
)

// linkConfig is what both clients need to keep one TCP connection up.
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
}

// config returns the link configuration for the service name at addr, with every zero
// setting at its default.
func (l Link) config(name, addr string) linkConfig {
	return linkConfig{
		name:         name,
		addr:         addr,
		logger:       l.Logger,
		dialTimeout:  orDuration(l.DialTimeout, DefaultDialTimeout),
		writeTimeout: orDuration(l.WriteTimeout, DefaultWriteTimeout),
		resetAfter:   orDuration(l.ResetAfter, DefaultResetAfter),
		backoff: NewBackoff(orDuration(l.MinBackoff, DefaultMinBackoff),
			orDuration(l.MaxBackoff, DefaultMaxBackoff), EqualJitter, nil),
	}
}

type linkConfig struct {
	name         string // "route service" or "report service", for logs
	addr         string
	logger       *slog.Logger
	dialTimeout  time.Duration
	writeTimeout time.Duration
	resetAfter   time.Duration
	backoff      *Backoff
}

// LinkStats are the connection counters of a client's link, part of both clients'
// stats.
type LinkStats struct {
	Connected   bool   // a connection is up
	Connects    uint64 // connections established
	Disconnects uint64 // connections lost (closed by the peer, failed, or closed on bad input)
	DialErrors  uint64 // failed connection attempts
}

// stats returns the link's counters, each read atomically.
func (l *link) stats() LinkStats {
	return LinkStats{
		Connected:   l.connected.Load(),
		Connects:    l.connects.Load(),
		Disconnects: l.disconnects.Load(),
		DialErrors:  l.dialErrors.Load(),
	}
}

// link keeps the connection state and counters both clients share, and dials with
// throttled logging. Its methods are called from the client's Run goroutine, except
// the counters, which are atomics read by Stats.
type link struct {
	linkConfig
	dialLog throttle // failed dials
	errLog  throttle // lost connections and bad input

	connected   atomic.Bool
	connects    atomic.Uint64
	disconnects atomic.Uint64
	dialErrors  atomic.Uint64
	upSince     time.Time // when the current connection was established; Run goroutine only
}

func newLink(c linkConfig) *link {
	if c.logger == nil {
		c.logger = slog.Default()
	}
	c.logger = c.logger.With("peer", c.name, "addr", c.addr)
	return &link{linkConfig: c, dialLog: throttle{every: logEvery}, errLog: throttle{every: logEvery}}
}

// dial makes one connection attempt. Failures are counted and logged, throttled;
// an attempt cut short by ctx is neither.
func (l *link) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: l.dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", l.addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		l.dialErrors.Add(1)
		if ok, held := l.dialLog.allow(time.Now()); ok {
			l.logger.Warn("cannot connect", "err", err, "failed_since_last_log", held)
		}
		return nil, err
	}
	return conn, nil
}

// up records a new connection.
func (l *link) up() {
	l.upSince = time.Now()
	l.connects.Add(1)
	l.connected.Store(true)
	l.dialLog.reset()
	l.logger.Info("connected")
}

// down records the loss of the connection, cause being why (nil at shutdown), and
// resets the backoff when the connection had lived long enough to count as healthy.
func (l *link) down(cause error) {
	l.connected.Store(false)
	if cause == nil {
		return
	}
	l.disconnects.Add(1)
	if time.Since(l.upSince) >= l.resetAfter {
		l.backoff.Reset()
	}
	if ok, held := l.errLog.allow(time.Now()); ok {
		l.logger.Warn("connection lost", "err", cause, "lost_since_last_log", held)
	}
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
