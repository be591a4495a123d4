package reportsvc

import (
	"context"
	"log/slog"
	"time"

	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/internal/tlsgen"
	"github.com/larsgo/lars/store"
)

// Defaults of Config.
const (
	DefaultListen       = "127.0.0.1:7779"
	DefaultWorkers      = 2
	DefaultQueueSize    = 100_000
	DefaultBatchSize    = 1000
	DefaultMaxConns     = 65536
	DefaultRetries      = 3
	DefaultRetryBackoff = 50 * time.Millisecond
	DefaultMaxBackoff   = 2 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultFlushTimeout = 2 * time.Second
	// DefaultIdleTimeout closes a connection that sent no report within 10 minutes of
	// connecting: an agent reports every few seconds while its callers call.
	DefaultIdleTimeout = 10 * time.Minute
	// lars-reporter's retention defaults: a ServerCallStatus row not updated for 7
	// days is of a host or an agent gone; RouteHistory keeps 90 days and at most 10,000
	// rows per key (a key rewritten every minute for a week); every hour, 1,000 rows
	// per statement.
	DefaultStatusRetention   = 7 * 24 * time.Hour
	DefaultHistoryRetention  = 90 * 24 * time.Hour
	DefaultHistoryKeepPerKey = 10_000
	DefaultRetentionInterval = time.Hour
	DefaultRetentionBatch    = 1000
	// DefaultKnownKeysRefresh is lars-reporter's -known-keys-refresh: how often the
	// route store's stamp is read to learn of new keys. A key just given a host is
	// dropped for at most this long (plus one read); an agent reports a key only once
	// lars-dns, which polls the same store, has served its hosts.
	DefaultKnownKeysRefresh = 5 * time.Second
)

// Store is where the service writes call status; *store.DB implements it.
type Store interface {
	UpsertCallStatus(ctx context.Context, rows []store.CallStatus) error
}

var _ Store = (*store.DB)(nil)

// Config configures a Service. Its zero value works but for Store.
type Config struct {
	// Store receives the ServerCallStatus upserts. Required.
	Store Store
	// Listen is the TCP address agents connect to. Default 127.0.0.1:7779.
	Listen string
	// Workers is the number of database writers (Lars's db_thread_cnt). Each owns the
	// rows whose key hashes to it, so one row is always written by one writer, in
	// order, and two writers never upsert the same row at once. Default 2. At most
	// QueueSize.
	Workers int
	// QueueSize bounds the rows waiting to be written, over all workers (each holds
	// its share). A result for a queued row replaces it; a result for a new row when
	// the worker's share is full drops a row, counted: the oldest of its own
	// connection's if that connection holds at least an equal share (a flood pushes out
	// its own rows), else the oldest of the connection holding the most. Default
	// 100,000.
	QueueSize int
	// BatchSize is the most rows one write to the store takes (the store writes them
	// in multi-row statements of 250). Default 1000.
	BatchSize int
	// MaxConns bounds the open agent connections; more are closed at once and counted.
	// Default 65536.
	MaxConns int
	// IdleTimeout closes a connection that sent no valid frame within that long of
	// connecting, counted (a silent connection holds a descriptor and a slot of
	// MaxConns); one that has reported is kept however quiet. At MaxConns, a new
	// connection closes the one silent longest (one that never reported first), if
	// silent for a quarter of it. Default 10m; negative: never.
	IdleTimeout time.Duration
	// Retries is how many times a failed batch is tried again, with backoff, before
	// its rows are put back in the queue (those that still fit and were not replaced
	// meanwhile by newer results) or dropped, counted. Default 3; negative: none.
	Retries int
	// RetryBackoff is the first pause after a failed write; it doubles up to
	// MaxBackoff and starts over after a success. Default 50ms.
	RetryBackoff time.Duration
	// MaxBackoff caps the pause between attempts while the store fails. Default 2s.
	MaxBackoff time.Duration
	// WriteTimeout bounds one statement. Default 10s.
	WriteTimeout time.Duration
	// FlushTimeout bounds the writing of what is queued once Run's context ends; rows
	// still queued after it are dropped, counted. Default 2s.
	FlushTimeout time.Duration
	// KnownKeysRefresh, when positive and Store is also a KeySource, turns on the
	// known-key filter: rows of a report for a key the route store does not hold are
	// dropped, counted, once the set of keys was loaded (everything is kept before). The
	// set is brought up to date this often: one row (the route stamp) is read, and the
	// keys only when the stamp changed. 0 (the zero value): every key's rows are kept.
	// lars-reporter turns it on with DefaultKnownKeysRefresh.
	KnownKeysRefresh time.Duration
	// StatusRetention, when positive and Store is also a Pruner, deletes the
	// ServerCallStatus rows whose ts is older than it, every RetentionInterval. 0 (the
	// zero value): keep them.
	StatusRetention time.Duration
	// HistoryRetention, when positive, deletes the RouteHistory rows older than it;
	// HistoryKeepPerKey, when positive, those older than their key's HistoryKeepPerKey
	// newest. The newest row of a key is always kept. 0: no bound of that kind.
	HistoryRetention  time.Duration
	HistoryKeepPerKey int
	// RetentionInterval is the time between two retention sweeps (the first runs
	// once the service listens). Default 1h.
	RetentionInterval time.Duration
	// RetentionBatch is the most rows one retention statement reads or deletes.
	// Default 1000.
	RetentionBatch int
	// Now is the clock that stamps results whose report carries no ts, or a ts in the
	// future (clamped to the time read, counted), and sets the retention's cutoffs.
	// Default time.Now.
	Now func() time.Time
	// TLS, when set, makes every connection TLS: with a CA (Mutual), every agent
	// proves itself with a certificate the CA signed, its identity is in the log, and
	// only the roles in ReportRoles may report. Refused handshakes, plaintext clients
	// among them, are counted in /metrics (lars_reporter_tls_*). Nil: plain Lars
	// framing, as the C++ agents speak.
	TLS *tlsconf.Server
	// ReportRoles are the certificate roles whose holders may report when TLS is
	// mutual: a connection of another role (a client or server certificate, or one
	// tlsgen did not make) is closed before its first frame, counted. Default: agents
	// only (tlsgen.RoleAgent).
	ReportRoles []tlsgen.Role
	// Policy, when set (TLS must then be mutual), decides instead of ReportRoles: a
	// connection whose identity no report rule names is closed before its first frame,
	// and the rows of a service the identity may not report are dropped, counted. A
	// reload of the policy applies to open connections at their next report.
	Policy *policy.Live
	// Logger receives the service's events. Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	c.QueueSize = orInt(c.QueueSize, DefaultQueueSize)
	c.Workers = min(orInt(c.Workers, DefaultWorkers), c.QueueSize)
	c.BatchSize = orInt(c.BatchSize, DefaultBatchSize)
	c.MaxConns = orInt(c.MaxConns, DefaultMaxConns)
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	switch {
	case c.Retries == 0:
		c.Retries = DefaultRetries
	case c.Retries < 0:
		c.Retries = 0
	}
	c.RetryBackoff = orDuration(c.RetryBackoff, DefaultRetryBackoff)
	c.MaxBackoff = max(orDuration(c.MaxBackoff, DefaultMaxBackoff), c.RetryBackoff)
	c.WriteTimeout = orDuration(c.WriteTimeout, DefaultWriteTimeout)
	c.FlushTimeout = orDuration(c.FlushTimeout, DefaultFlushTimeout)
	c.RetentionInterval = orDuration(c.RetentionInterval, DefaultRetentionInterval)
	c.RetentionBatch = orInt(c.RetentionBatch, DefaultRetentionBatch)
	if len(c.ReportRoles) == 0 {
		c.ReportRoles = []tlsgen.Role{tlsgen.RoleAgent}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
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
