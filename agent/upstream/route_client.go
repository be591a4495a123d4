package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// RouteClientConfig configures a RouteClient. Its zero value works but for Table.
type RouteClientConfig struct {
	// Addrs are the route service's addresses, host:port each, tried in order: when
	// the current one cannot be dialled or its connection is lost, the client moves to
	// the next (wrapping around), waiting the backoff delay only once every address
	// has failed in a row. It stays on an address that works. Default
	// [DefaultRouteAddr], 127.0.0.1:7778.
	Addrs []string
	// Table is the route table the client feeds (the agent's *lb.Table): it sends the
	// table's pulls and applies every answer and push to it. Required.
	Table RouteTable
	// ResubscribeRate is how many keys a second the client pulls again after each
	// connection is established (see RouteClient). Default 50,000: a table of 100,000
	// keys in 2 s.
	ResubscribeRate int
	// ResubscribeBatch is how many of those keys go into one write, one write every
	// ResubscribeBatch/ResubscribeRate seconds. Default 500 (every 10 ms at the
	// default rate).
	ResubscribeBatch int
	// Registrations, when set, is the agent's registration table: the client announces
	// FEATURE_REGISTER in its Hello, tells the table what each connection is, writes
	// what it queues with Lease and hands it every LeaseReply (see lease.go). Nil: no
	// registration.
	Registrations Registrations
	// HelloWait is how long a new connection's peer may leave the Hello unanswered
	// before the table is told that it does not take registrations (Lars's lars_dns
	// never answers it). Default DefaultHelloWait.
	HelloWait time.Duration
	// Link are the connection settings: logger, timeouts, backoff.
	Link
}

// Defaults of RouteClientConfig.
const (
	DefaultResubscribeRate  = 50_000
	DefaultResubscribeBatch = 500
)

// RouteClientStats are a RouteClient's counters, for metrics.
type RouteClientStats struct {
	LinkStats
	PullsSent      uint64 // GetRouteRequests written, re-subscriptions included
	AnswersApplied uint64 // GetRouteResponses (answers and pushes) applied to the table
	BadFrames      uint64 // frames dropped: unknown msgid or a body that does not decode
	BadHosts       uint64 // hosts of answers and pushes dropped: an ip6 not 16 bytes, a weight over route.MaxWeight or an invalid zone
	ProtocolErrors uint64 // connections closed for a bad frame length
	WriteErrors    uint64 // writes that failed (the connection is then closed)

	Resubscribes       uint64        // re-subscriptions completed: every known key pulled again on a new connection
	ResubscribedKeys   uint64        // keys pulled by re-subscriptions (part of PullsSent)
	ResubscribePending uint64        // keys of the current connection's re-subscription not written yet
	LastResubscribe    time.Duration // how long the last completed re-subscription took, from the connection to its last write

	// The protocol extension (docs/PROTOCOL.md).
	Peer              string // the current connection's route service: PeerUnknown, PeerOurs or PeerLars
	HellosSent        uint64 // Hellos written: one per connection, then keepalives to a service of ours
	HelloReplies      uint64 // HelloReplies read
	UnsubscribeFrames uint64 // Unsubscribe frames written
	UnsubscribedKeys  uint64 // keys given back in them
	DroppedNotSent    uint64 // keys dropped by the table and not given back: the peer does not take Unsubscribes, or the key came back first

	// Registration (lease.go).
	LeaseStats
}

// maxPullBatch bounds how many queued pulls go into one write.
const maxPullBatch = 128

// RouteClient keeps the agent's connection to the route service: it sends the keys the
// table asks for (msgid 1) and applies every answer or push (msgid 2) to the table.
// While disconnected it reconnects with capped, jittered exponential backoff, failing
// over between the service's addresses; pulls wait in the table's queue meanwhile and
// the table keeps serving the routes it has.
//
// Subscriptions belong to a connection: the route service pushes a key's changes only
// to the connections that asked for it. So on every connection established the client
// pulls every key the table knows again (lb.Table.Reconnected), those whose pull was
// outstanding first. It writes them itself, straight to the connection, in batches of
// ResubscribeBatch keys paced at ResubscribeRate, between the table's own pulls, which
// go out as they come: the bounded Pulls queue is not in the way, nothing is dropped,
// and the route service is not flooded when many agents reconnect at once. A
// connection lost midway loses nothing: the next one lists every key again.
//
// Every connection starts with a Hello (the protocol extension, docs/PROTOCOL.md; see
// hello.go): a route service that answers it gets keepalive Hellos and, if it takes
// them, Unsubscribes of the keys the table drops (lb.Table.TrackDropped), so that it
// frees them; one that does not (Lars's lars_dns) gets nothing but Lars frames.
type RouteClient struct {
	table       RouteTable
	link        *link
	resubRate   int
	resubBatch  int
	resubPeriod time.Duration // between two batches: resubBatch/resubRate
	// clock is the time the re-subscriptions are paced by: time.Now, or a test's
	// scripted clock (the ticker that wakes writeLoop only says when to look).
	clock func() time.Time

	pullsSent        atomic.Uint64
	answersApplied   atomic.Uint64
	badFrames        atomic.Uint64
	badHosts         atomic.Uint64
	protocolErrors   atomic.Uint64
	writeErrors      atomic.Uint64
	resubscribes     atomic.Uint64
	resubscribedKeys atomic.Uint64
	resubPending     atomic.Uint64
	lastResubscribe  atomic.Int64 // time.Duration

	peer              atomic.Int32 // the current connection's peer: peerUnknown, peerOurs, peerLars
	hellosSent        atomic.Uint64
	helloReplies      atomic.Uint64
	unsubscribeFrames atomic.Uint64
	unsubscribedKeys  atomic.Uint64
	droppedNotSent    atomic.Uint64
	replies           chan helloReply // the reader's first HelloReply of a connection, to the Run goroutine
	larsSeen          chan struct{}   // the reader found the connection's peer to be Lars's
	droppedSignal     <-chan struct{} // the table dropped keys (lb.Table.TrackDropped)

	// Registration (lease.go): the table, what it queued, counters.
	reg          Registrations
	helloWait    time.Duration
	leases       chan []LeaseEntry
	leaseFrames  atomic.Uint64
	leaseUnsent  atomic.Uint64
	leaseReplies atomic.Uint64
	leaseSent    [3]atomic.Uint64
	leaseStatus  [numLeaseStatuses]atomic.Uint64

	// Owned by Run: the reader goroutine of the current connection uses sr, resp,
	// helloResp and hosts; the Run goroutine uses the others. Reused from one
	// connection to the next, the previous reader having ended.
	sr        *codec.StreamReader
	resp      larspb.GetRouteResponse
	helloResp larspb.HelloReply
	hosts     []route.Host
	batch     []route.Key
	req       larspb.GetRouteRequest
	resub     resubscription
	hello     larspb.Hello
	dropped   []route.Key
	unsub     larspb.Unsubscribe
	unsubKeys []larspb.RouteKey // backing store of unsub.Keys
	unsubPtrs []*larspb.RouteKey

	lease        leaseState // Run goroutine
	leaseMsg     larspb.Lease
	leaseEntries []larspb.LeaseEntry // backing store of leaseMsg.Entries
	leaseHosts   []larspb.HostInfo
	leasePtrs    []*larspb.LeaseEntry
	leaseResp    larspb.LeaseReply // reader goroutine
	leaseResults []LeaseResult
}

// NewRouteClient returns a client for cfg; Run starts it. It panics if cfg.Table is nil.
func NewRouteClient(cfg RouteClientConfig) *RouteClient {
	if cfg.Table == nil {
		panic("upstream: RouteClientConfig.Table is nil")
	}
	addrs := slices.Clone(cfg.Addrs)
	if len(addrs) == 0 {
		addrs = []string{DefaultRouteAddr}
	}
	rate := cfg.ResubscribeRate
	if rate <= 0 {
		rate = DefaultResubscribeRate
	}
	batch := cfg.ResubscribeBatch
	if batch <= 0 {
		batch = DefaultResubscribeBatch
	}
	return &RouteClient{
		table:         cfg.Table,
		replies:       make(chan helloReply, 1),
		larsSeen:      make(chan struct{}, 1),
		reg:           cfg.Registrations,
		helloWait:     orDuration(cfg.HelloWait, DefaultHelloWait),
		leases:        make(chan []LeaseEntry, leaseQueue),
		droppedSignal: cfg.Table.TrackDropped(false),
		link:          newLink(cfg.Link.config("route service", addrs)),
		resubRate:     rate,
		resubBatch:    batch,
		resubPeriod:   max(time.Duration(float64(batch)/float64(rate)*float64(time.Second)), time.Millisecond),
		clock:         time.Now,
		batch:         make([]route.Key, 0, maxPullBatch),
	}
}

// Stats returns the client's counters. Each is read atomically; together they are not
// one snapshot.
func (c *RouteClient) Stats() RouteClientStats {
	return RouteClientStats{
		LinkStats:          c.link.stats(),
		PullsSent:          c.pullsSent.Load(),
		AnswersApplied:     c.answersApplied.Load(),
		BadFrames:          c.badFrames.Load(),
		BadHosts:           c.badHosts.Load(),
		ProtocolErrors:     c.protocolErrors.Load(),
		WriteErrors:        c.writeErrors.Load(),
		Resubscribes:       c.resubscribes.Load(),
		ResubscribedKeys:   c.resubscribedKeys.Load(),
		ResubscribePending: c.resubPending.Load(),
		LastResubscribe:    time.Duration(c.lastResubscribe.Load()),
		Peer:               peerName(c.peer.Load()),
		HellosSent:         c.hellosSent.Load(),
		HelloReplies:       c.helloReplies.Load(),
		UnsubscribeFrames:  c.unsubscribeFrames.Load(),
		UnsubscribedKeys:   c.unsubscribedKeys.Load(),
		DroppedNotSent:     c.droppedNotSent.Load(),
		LeaseStats:         c.leaseStats(),
	}
}

// Run connects to the route service and serves the link until ctx is done, then
// closes the connection and returns nil once every goroutine it started has ended.
// Run must not be called twice at once.
func (c *RouteClient) Run(ctx context.Context) error {
	if c.sr == nil {
		c.sr = codec.NewStreamReader(nil, 0)
	}
	for ctx.Err() == nil {
		conn, err := c.link.dial(ctx)
		if err == nil {
			c.link.up(conn)
			err = c.serve(ctx, conn)
			if ctx.Err() != nil {
				err = nil
			}
			c.link.down(err)
		}
		if ctx.Err() != nil {
			break
		}
		if c.link.failed() && !c.link.wait(ctx) {
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
	c.startHello()
	c.startLeases()
	defer c.endLeases()
	readErr := make(chan error, 1)
	go func() { readErr <- c.readLoop() }()
	c.startResubscription()

	readerDone, err := false, c.writeHello(conn) // the first frame of every connection
	if err == nil {
		readerDone, err = c.writeLoop(ctx, conn, readErr)
	}
	conn.Close()
	if !readerDone {
		if rerr := <-readErr; err == nil {
			err = rerr
		}
	}
	c.sr.Reset(nil)
	c.table.TrackDropped(false) // the connection's subscriptions are gone with it
	c.resubPending.Store(0)     // the next connection lists every key again
	return err
}

// writeLoop sends the table's pulls as they come and the connection's re-subscription
// at its pace, and, once the service answered the Hello, keepalive Hellos and the keys
// the table drops, until ctx is done (nil), a write fails (its error), or the reader
// ends (readerDone, and its error).
func (c *RouteClient) writeLoop(ctx context.Context, conn net.Conn, readErr <-chan error) (readerDone bool, err error) {
	pulls := c.table.Pulls()
	var tick, keepalive, helloWait <-chan time.Time
	if c.reg != nil {
		t := time.NewTimer(c.helloWait)
		defer t.Stop()
		helloWait = t.C
	}
	if !c.resub.done() {
		ticker := time.NewTicker(c.resubPeriod)
		defer ticker.Stop()
		tick = ticker.C
	}
	unsub := false // the service's HelloReply said it takes Unsubscribes
	// The first batch at once: the keys whose pull was outstanding come first.
	if err := c.resubscribeDue(conn, c.clock()); err != nil {
		return false, err
	}
	for {
		if c.resub.done() {
			tick = nil
		}
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
			if err := c.writePulls(conn, c.batch); err != nil {
				return false, err
			}
		case <-tick:
			if err := c.resubscribeDue(conn, c.clock()); err != nil {
				return false, err
			}
		case r := <-c.replies:
			unsub = r.unsubscribes()
			if r.registers() {
				c.tellLink(LinkRegisters)
			} else {
				c.tellLink(LinkNoRegister)
			}
			if p := r.keepalivePeriod(); p > 0 {
				ticker := time.NewTicker(p)
				defer ticker.Stop() // once a connection: the reader passes one reply
				keepalive = ticker.C
			}
			if err := c.giveBack(conn, unsub); err != nil {
				return false, err
			}
		case <-keepalive:
			if err := c.writeHello(conn); err != nil {
				return false, err
			}
		case <-c.larsSeen:
			c.tellLink(LinkNoRegister)
		case <-helloWait:
			c.helloWaited()
		case e := <-c.leases:
			if err := c.writeLease(conn, e); err != nil {
				return false, err
			}
		case <-c.droppedSignal:
			if err := c.giveBack(conn, unsub); err != nil {
				return false, err
			}
		}
	}
}

// fillBatch adds to the batch the pulls already queued, up to maxPullBatch, skipping
// duplicates (the table never queues a key twice; this only guards the write).
func (c *RouteClient) fillBatch(pulls <-chan route.Key) {
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

func containsKey(keys []route.Key, k route.Key) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// writePulls encodes keys as GetRouteRequest frames and writes them at once. A failed
// write loses them from the queue, not from the table: the keys stay in flight there
// and the next connection pulls every key again.
func (c *RouteClient) writePulls(conn net.Conn, keys []route.Key) error {
	if len(keys) == 0 {
		return nil
	}
	buf := bufPool.Get()
	defer bufPool.Put(buf)
	for _, k := range keys {
		c.req.Modid, c.req.Cmdid = k.Modid, k.Cmdid
		buf.B, _ = codec.AppendFrame(buf.B, codec.MsgGetRouteRequest, &c.req) // a few bytes: never too large
	}
	if err := writeAll(conn, buf.B, c.link.writeTimeout); err != nil {
		c.writeErrors.Add(1)
		return err
	}
	c.pullsSent.Add(uint64(len(keys)))
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
		switch id {
		case codec.MsgGetRouteResponse:
		case codec.MsgHelloReply:
			c.readHelloReply(body)
			continue
		case codec.MsgLeaseReply:
			c.readLeaseReply(body)
			continue
		default:
			c.badFrame("unexpected message id", id, nil)
			continue
		}
		c.routeAnswerRead()
		c.resp.ResetVT()
		if err := c.resp.UnmarshalVT(body); err != nil {
			c.badFrame("cannot decode route answer", id, err)
			continue
		}
		c.hosts = c.hosts[:0]
		for _, h := range c.resp.Host {
			rh, err := HostFromWire(h)
			if err != nil {
				c.badHost(c.resp.Modid, c.resp.Cmdid, err)
				continue
			}
			c.hosts = append(c.hosts, rh)
		}
		c.table.ApplyRoute(c.resp.Modid, c.resp.Cmdid, c.hosts)
		c.answersApplied.Add(1)
	}
}

// ErrBadHostInfo is wrapped by HostFromWire's errors.
var ErrBadHostInfo = errors.New("bad host in route")

// HostFromWire converts a HostInfo of a route answer or push to a route.Host: ip6 (16
// bytes, an IPv4-mapped address taken as the IPv4 address) when present, else ip;
// the port keeps its low 16 bits as Lars's ip does not check it; weight and zone as
// given. An ip6 of another length, a weight over route.MaxWeight or an invalid zone is
// an error wrapping ErrBadHostInfo. A nil h is the host 0.0.0.0:0.
func HostFromWire(h *larspb.HostInfo) (route.Host, error) {
	if h == nil {
		return route.FromWire(0, 0), nil
	}
	addr, ok := codec.HostAddr(h)
	if !ok {
		return route.Host{}, fmt.Errorf("%w: ip6 of %d bytes, not 16", ErrBadHostInfo, len(h.Ip6))
	}
	rh := route.Host{Addr: addr}
	if h.Weight > route.MaxWeight {
		return route.Host{}, fmt.Errorf("%w: %s: weight %d is over %d", ErrBadHostInfo, rh.Addr, h.Weight, route.MaxWeight)
	}
	rh.Weight = h.Weight
	if h.Zone != "" {
		if err := route.CheckZone(h.Zone); err != nil {
			return route.Host{}, fmt.Errorf("%w: %s: %w", ErrBadHostInfo, rh.Addr, err)
		}
		rh.Zone = h.Zone
	}
	return rh, nil
}

// badHost counts and logs (throttled) a host dropped from a route.
func (c *RouteClient) badHost(modid, cmdid int32, err error) {
	c.badHosts.Add(1)
	if ok, held := c.link.errLog.Allow(time.Now()); ok {
		c.link.logger.Warn("host dropped from route", "modid", modid, "cmdid", cmdid, "err", err, "dropped_since_last_log", held)
	}
}

func (c *RouteClient) badFrame(msg string, id codec.MsgID, err error) {
	c.badFrames.Add(1)
	if ok, held := c.link.errLog.Allow(time.Now()); ok {
		c.link.logger.Warn(msg, "msgid", int32(id), "err", err, "dropped_since_last_log", held)
	}
}
