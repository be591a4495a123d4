package upstream

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/lb"
)

// ReportClientConfig configures a ReportClient. Its zero value works but for Statuses.
type ReportClientConfig struct {
	// Addr is the report service's host:port. Default DefaultReportAddr, 127.0.0.1:7779.
	Addr string
	// Statuses is the queue of key statuses to send, the table's Statuses(). Required.
	Statuses <-chan lb.Status
	// Caller is this machine's IPv4 address in wire form, sent in every report.
	// Default (0) 127.0.0.1, Lars's fallback.
	Caller int32
	// Clock gives the ts of each report (unix seconds). Default time.Now.
	Clock func() time.Time
	// FlushTimeout bounds the time Run spends, once ctx is done, writing the statuses
	// still queued to the open connection. Default 1s.
	FlushTimeout time.Duration
	// Link are the connection settings: logger, timeouts, backoff.
	Link
}

// ReportClientStats are a ReportClient's counters, for metrics.
type ReportClientStats struct {
	LinkStats
	Sent        uint64 // statuses written (a status of over 1024 hosts takes several messages)
	Dropped     uint64 // statuses dropped: no connection, or their write failed
	WriteErrors uint64 // writes that failed (the connection is then closed)
}

// DefaultFlushTimeout is the default of ReportClientConfig.FlushTimeout.
const DefaultFlushTimeout = time.Second

// maxStatusBatch bounds how many queued statuses go into one write.
const maxStatusBatch = 64

// ReportClient sends the table's key statuses to the report service (msgid 3), which
// never answers. It is best effort: while there is no connection it keeps draining
// the queue and drops what it takes, counted, so the queue never backs up.
type ReportClient struct {
	statuses     <-chan lb.Status // set to nil by Run if it is closed
	clock        func() time.Time
	flushTimeout time.Duration
	link         *link

	sent        atomic.Uint64
	dropped     atomic.Uint64
	writeErrors atomic.Uint64

	enc   statusEncoder // Run goroutine only
	batch []lb.Status   // Run goroutine only

	testHookShutdown func() // called as shutdown starts, to queue statuses in tests
}

// localhost is 127.0.0.1 in wire form.
const localhost = 127<<24 | 1

// NewReportClient returns a client for cfg; Run starts it. It panics if cfg.Statuses
// is nil.
func NewReportClient(cfg ReportClientConfig) *ReportClient {
	if cfg.Statuses == nil {
		panic("upstream: ReportClientConfig.Statuses is nil")
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultReportAddr
	}
	if cfg.Caller == 0 {
		cfg.Caller = localhost
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &ReportClient{
		statuses:     cfg.Statuses,
		clock:        cfg.Clock,
		flushTimeout: orDuration(cfg.FlushTimeout, DefaultFlushTimeout),
		link:         newLink(cfg.Link.config("report service", []string{cfg.Addr})),
		enc:          statusEncoder{caller: cfg.Caller},
		batch:        make([]lb.Status, 0, maxStatusBatch),
	}
}

// Stats returns the client's counters. Each is read atomically; together they are not
// one snapshot.
func (c *ReportClient) Stats() ReportClientStats {
	return ReportClientStats{
		LinkStats:   c.link.stats(),
		Sent:        c.sent.Load(),
		Dropped:     c.dropped.Load(),
		WriteErrors: c.writeErrors.Load(),
	}
}

// dialResult is the outcome of one connection attempt made in the background.
type dialResult struct {
	conn net.Conn
	err  error
}

// reportConn is the current connection and the signal of its end.
type reportConn struct {
	net.Conn
	gone chan struct{} // closed by the watcher when a read fails: the peer closed it
}

// Run connects to the report service and sends it every status from the queue until
// ctx is done. Connection attempts and backoff happen in the background so that the
// queue is drained all along. Once ctx is done it writes the statuses still queued
// to the open connection within FlushTimeout (without a connection it drops them),
// closes the connection and returns nil after every goroutine it started has ended.
// The agent's last Sweep should therefore come before ctx is cancelled. A write under
// way when ctx ends may hold Run up to WriteTimeout before the flush starts. Run must
// not be called twice at once.
func (c *ReportClient) Run(ctx context.Context) error {
	var (
		wg     sync.WaitGroup
		conn   *reportConn
		dialed = make(chan dialResult, 1)
		retry  = time.NewTimer(0) // fires at once: the first attempt
	)
	defer retry.Stop()
	retryC := retry.C
	dial := func() {
		wg.Go(func() {
			nc, err := c.link.dial(ctx)
			dialed <- dialResult{nc, err}
		})
	}
	lost := func(cause error) {
		conn.Close()
		conn = nil
		c.link.down(cause)
		retry.Reset(c.link.backoff.Next())
		retryC = retry.C
	}
	for {
		var gone <-chan struct{}
		if conn != nil {
			gone = conn.gone
		}
		select {
		case <-ctx.Done():
			c.shutdown(conn)
			wg.Wait()
			select { // a dial that succeeded as ctx ended
			case r := <-dialed:
				if r.conn != nil {
					r.conn.Close()
				}
			default:
			}
			return nil
		case <-retryC:
			retryC = nil
			dial()
		case r := <-dialed:
			if r.err != nil {
				if ctx.Err() == nil {
					retry.Reset(c.link.backoff.Next())
					retryC = retry.C
				}
				continue
			}
			rc := &reportConn{Conn: r.conn, gone: make(chan struct{})}
			conn = rc
			wg.Go(func() { watch(rc) })
			c.link.up(r.conn)
		case <-gone:
			lost(errClosedByPeer)
		case st, ok := <-c.statuses:
			if !ok { // never closed by lb.Table; if another producer does, stop reading
				c.statuses = nil
				continue
			}
			c.batch = append(c.batch[:0], st)
			c.fillBatch()
			if conn == nil {
				c.dropped.Add(uint64(len(c.batch)))
				continue
			}
			if err := c.write(conn, c.link.writeTimeout); err != nil {
				lost(err)
			}
		}
	}
}

// watch reads the connection, discarding anything, until it fails, then closes
// conn.gone. Run closes the connection to end it.
func watch(conn *reportConn) {
	defer close(conn.gone)
	var buf [256]byte
	for {
		if _, err := conn.Read(buf[:]); err != nil {
			return
		}
	}
}

// fillBatch adds to the batch the statuses already queued, up to maxStatusBatch.
func (c *ReportClient) fillBatch() {
	for len(c.batch) < maxStatusBatch {
		select {
		case st, ok := <-c.statuses:
			if !ok {
				c.statuses = nil
				return
			}
			c.batch = append(c.batch, st)
		default:
			return
		}
	}
}

// write encodes the batch and writes it within timeout; the batch counts as sent or,
// if the write fails, as dropped.
func (c *ReportClient) write(conn net.Conn, timeout time.Duration) error {
	buf := bufPool.Get()
	defer bufPool.Put(buf)
	ts := uint32(c.clock().Unix())
	for i := range c.batch {
		buf.B = c.enc.appendStatus(buf.B, &c.batch[i], ts)
		c.batch[i] = lb.Status{} // let the hosts go
	}
	n := uint64(len(c.batch))
	if err := writeAll(conn, buf.B, timeout); err != nil {
		c.writeErrors.Add(1)
		c.dropped.Add(n)
		return err
	}
	c.sent.Add(n)
	return nil
}

// shutdown writes what is queued to conn, if any, within flushTimeout, and closes it;
// without a connection, or once a write failed, what is queued is dropped. It stops
// at the deadline even if a producer keeps queueing.
func (c *ReportClient) shutdown(conn *reportConn) {
	if c.testHookShutdown != nil {
		c.testHookShutdown()
	}
	deadline := time.Now().Add(c.flushTimeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		c.batch = c.batch[:0]
		c.fillBatch()
		if len(c.batch) == 0 {
			break
		}
		if conn == nil {
			c.dropped.Add(uint64(len(c.batch)))
			continue
		}
		if err := c.write(conn, left); err != nil {
			c.link.logger.Warn("cannot flush statuses at shutdown", "err", err)
			conn.Close()
			conn = nil
		}
	}
	if conn != nil {
		conn.Close()
	}
	c.link.down(nil)
}
