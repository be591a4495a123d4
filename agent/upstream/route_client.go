package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/lb"
)

// RouteClientConfig configures a RouteClient. Its zero value works but for Table.
type RouteClientConfig struct {
	// Addr is the route service's host:port. Default DefaultRouteAddr, 127.0.0.1:7778.
	Addr string
	// Table is the route table the client feeds: it sends the table's pulls and
	// applies every answer and push to it. Required.
	Table *lb.Table
	// Link are the connection settings: logger, timeouts, backoff.
	Link
}

// RouteClientStats are a RouteClient's counters, for metrics.
type RouteClientStats struct {
	LinkStats
	PullsSent      uint64 // GetRouteRequests written
	AnswersApplied uint64 // GetRouteResponses (answers and pushes) applied to the table
	BadFrames      uint64 // frames dropped: unknown msgid or a body that does not decode
	ProtocolErrors uint64 // connections closed for a bad frame length
	WriteErrors    uint64 // writes that failed (the connection is then closed)
}

// maxPullBatch bounds how many queued pulls go into one write.
const maxPullBatch = 128

// RouteClient keeps the agent's connection to the route service: it sends the keys the
// table asks for (msgid 1) and applies every answer or push (msgid 2) to the table.
// While disconnected it reconnects with capped, jittered exponential backoff; pulls
// wait in the table's queue meanwhile and the table keeps serving the routes it has.
type RouteClient struct {
	table *lb.Table
	link  *link

	pullsSent      atomic.Uint64
	answersApplied atomic.Uint64
	badFrames      atomic.Uint64
	protocolErrors atomic.Uint64
	writeErrors    atomic.Uint64

	// Owned by Run: the reader goroutine of the current connection uses sr, resp and
	// hosts; the Run goroutine uses batch and req. Reused from one connection to the
	// next, the previous reader having ended.
	sr    *codec.StreamReader
	resp  larspb.GetRouteResponse
	hosts []lb.Host
	batch []lb.Key
	req   larspb.GetRouteRequest
}

// NewRouteClient returns a client for cfg; Run starts it. It panics if cfg.Table is nil.
func NewRouteClient(cfg RouteClientConfig) *RouteClient {
	if cfg.Table == nil {
		panic("upstream: RouteClientConfig.Table is nil")
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultRouteAddr
	}
	return &RouteClient{
		table: cfg.Table,
		link:  newLink(cfg.Link.config("route service", cfg.Addr)),
		batch: make([]lb.Key, 0, maxPullBatch),
	}
}

// Stats returns the client's counters. Each is read atomically; together they are not
// one snapshot.
func (c *RouteClient) Stats() RouteClientStats {
	return RouteClientStats{
		LinkStats:      c.link.stats(),
		PullsSent:      c.pullsSent.Load(),
		AnswersApplied: c.answersApplied.Load(),
		BadFrames:      c.badFrames.Load(),
		ProtocolErrors: c.protocolErrors.Load(),
		WriteErrors:    c.writeErrors.Load(),
	}
}

// Run connects to the route service and serves the link until ctx is done, then
// closes the connection and returns nil once every goroutine it started has ended.
// Each connection established calls Table.Reconnected, so pulls left unanswered by a
// previous connection are sent again. Run must not be called twice at once.
func (c *RouteClient) Run(ctx context.Context) error {
	if c.sr == nil {
		c.sr = codec.NewStreamReader(nil, 0)
	}
	for ctx.Err() == nil {
		conn, err := c.link.dial(ctx)
		if err == nil {
			c.link.up()
			err = c.serve(ctx, conn)
			if ctx.Err() != nil {
				err = nil
			}
			c.link.down(err)
		}
		if ctx.Err() != nil || !c.link.wait(ctx) {
			break
		}
	}
	return nil
}

// serve runs one connection until it fails or ctx is done, and returns why it ended
// (anything when ctx is done). The Run goroutine writes pulls; a second goroutine
// reads answers.
func (c *RouteClient) serve(ctx context.Context, conn net.Conn) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c.sr.Reset(conn)
	readErr := make(chan error, 1)
	go func() { readErr <- c.readLoop() }()
	c.requeue()

	readerDone, err := c.writeLoop(ctx, conn, readErr)
	conn.Close()
	if !readerDone {
		if rerr := <-readErr; err == nil {
			err = rerr
		}
	}
	c.sr.Reset(nil)
	return err
}

// requeue gets the table to queue again every pull in flight, for the new connection.
// The pulls waiting in the queue are discarded first: each is in flight in the table,
// so Reconnected queues it again, and keeping both would send it twice.
func (c *RouteClient) requeue() {
	pulls := c.table.Pulls()
	for range len(pulls) {
		select {
		case <-pulls:
		default:
		}
	}
	c.table.Reconnected()
}

// writeLoop sends the table's pulls until ctx is done (nil), a write fails (its
// error), or the reader ends (readerDone, and its error).
func (c *RouteClient) writeLoop(ctx context.Context, conn net.Conn, readErr <-chan error) (readerDone bool, err error) {
	pulls := c.table.Pulls()
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case err := <-readErr:
			return true, err
		case k, ok := <-pulls:
			if !ok { // never closed by lb.Table; if it were, wait for the end
				pulls = nil
				continue
			}
			c.batch = append(c.batch[:0], k)
			c.fillBatch(pulls)
			if err := c.writePulls(conn); err != nil {
				return false, err
			}
		}
	}
}

// fillBatch adds to the batch the pulls already queued, up to maxPullBatch, skipping
// duplicates (a pull queued between requeue's drain and Reconnected comes twice).
func (c *RouteClient) fillBatch(pulls <-chan lb.Key) {
	for len(c.batch) < maxPullBatch {
		select {
		case k, ok := <-pulls:
			if !ok {
				return
			}
			if !containsKey(c.batch, k) {
				c.batch = append(c.batch, k)
			}
		default:
			return
		}
	}
}

func containsKey(keys []lb.Key, k lb.Key) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// writePulls encodes the batch as GetRouteRequest frames and writes them at once. A
// failed write loses the batch from the queue, not from the table: the keys stay in
// flight there and the next connection's Reconnected queues them again.
func (c *RouteClient) writePulls(conn net.Conn) error {
	buf := bufPool.Get()
	defer bufPool.Put(buf)
	for _, k := range c.batch {
		c.req.Modid, c.req.Cmdid = k.Modid, k.Cmdid
		buf.B, _ = codec.AppendFrame(buf.B, codec.MsgGetRouteRequest, &c.req) // a few bytes: never too large
	}
	if err := writeAll(conn, buf.B, c.link.writeTimeout); err != nil {
		c.writeErrors.Add(1)
		return err
	}
	c.pullsSent.Add(uint64(len(c.batch)))
	return nil
}

// readLoop applies the answers read from the connection until it fails, and returns
// why. A frame with a bad length ends it: the stream cannot be resynchronised.
func (c *RouteClient) readLoop() error {
	for {
		id, body, err := c.sr.Next()
		if err != nil {
			if errors.Is(err, codec.ErrProtocol) {
				c.protocolErrors.Add(1)
			} else if err == io.EOF {
				err = errClosedByPeer
			}
			return err
		}
		if id != codec.MsgGetRouteResponse {
			c.badFrame("unexpected message id", id, nil)
			continue
		}
		c.resp.ResetVT()
		if err := c.resp.UnmarshalVT(body); err != nil {
			c.badFrame("cannot decode route answer", id, err)
			continue
		}
		c.hosts = c.hosts[:0]
		for _, h := range c.resp.Host {
			c.hosts = append(c.hosts, lb.Host{IP: h.Ip, Port: h.Port})
		}
		c.table.ApplyRoute(c.resp.Modid, c.resp.Cmdid, c.hosts)
		c.answersApplied.Add(1)
	}
}

func (c *RouteClient) badFrame(msg string, id codec.MsgID, err error) {
	c.badFrames.Add(1)
	if ok, held := c.link.errLog.allow(time.Now()); ok {
		c.link.logger.Warn(msg, "msgid", int32(id), "err", err, "dropped_since_last_log", held)
	}
}
