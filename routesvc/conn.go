package routesvc

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/peerstats"
	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/store"
	"github.com/valyala/bytebufferpool"
)

// readBufferSize is each connection's read buffer. Agents send GetRouteRequests and
// Hellos of a few bytes each, so a small buffer holds many, which keeps 10,000
// connections from costing 64 KiB each; the rare larger frame is read apart (frames.go).
const readBufferSize = 2048

// writeChunk is how many queued bytes the writer gathers into one write.
const writeChunk = 64 << 10

// conn is one agent's connection. Its reader goroutine reads pulls, subscribes and
// queues their answers, answers Hellos and takes Unsubscribes; its writer goroutine
// writes whatever is queued: answers and
// pushes. The queue is bounded in bytes: a pull waits while the queue is over half the
// bound (the agent is slowed by TCP, nobody else), and a push that would overflow it
// closes the connection as too slow, so that no connection ever delays the others.
type conn struct {
	svc *Service
	nc  net.Conn
	br  *bufio.Reader
	// req, hello and unsub are the reader's decoded frames, reused.
	req   larspb.GetRouteRequest
	hello larspb.Hello
	unsub larspb.Unsubscribe
	// routeExt is set once the connection's Hello said FEATURE_ROUTE_EXT: its routes
	// carry IPv6 hosts, weights and zones (routeAnswer). Set by the reader, read by
	// whoever pushes.
	routeExt atomic.Bool
	// grant judges which services the peer may pull (nil: all of them, no policy).
	grant *policy.PeerGrant
	// owner names the peer in the leases it registers: its verified identity, or
	// "agent@IP" without mutual TLS; regGrant judges what it may register (policy
	// only). leaseMsg is the reader's decoded Lease, reused; leaseJobs counts its
	// frames waiting for the lease worker; held are the leases it keeps (guarded by
	// the lease manager's lock). See lease_frames.go.
	owner     string
	regGrant  *policy.PeerGrant
	leaseMsg  larspb.Lease
	leaseJobs atomic.Int32
	held      map[store.LeaseKey]struct{}
	// peer counts the pulls of the connection's identity (nil without mutual TLS).
	peer *peerstats.Counter
	// keys are the entries this connection subscribed to: changed by the reader
	// goroutine under the entry's lock, read by unsubscribeAll after the reader ended.
	keys map[*entry]struct{}
	// subs is len(keys), read by the stats and limits.
	subs atomic.Int64
	// unknown is how many of keys have no hosts: changed by the reader and, when a
	// key gains or loses its hosts, by the table under the entry's lock.
	unknown atomic.Int64

	mu     sync.Mutex // guards queue, queued, closed and writing
	queue  [][]byte   // frames to write, in order; each is immutable and shared
	queued int        // bytes the queue holds: its frames and their slice headers (queueCost)
	closed bool
	// writing is set while one goroutine (the reader or the writer) has taken the
	// queue and writes it: the other then leaves the queue alone, so frames go out in
	// the order they were queued.
	writing bool

	spare    [][]byte      // the queue's other buffer; owned by whoever is writing
	deadline time.Time     // the write deadline set last; owned by whoever is writing
	wake     chan struct{} // one token: frames were queued
	room     chan struct{} // one token: the writer took the queue
	done     chan struct{} // closed by close
}

func newConn(svc *Service, nc net.Conn) *conn {
	return &conn{
		svc:  svc,
		nc:   nc,
		br:   bufio.NewReaderSize(nc, readBufferSize),
		wake: make(chan struct{}, 1),
		room: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
}

// frameHeaderSize is what the queue holds for each frame beside its bytes: a slice
// header. Answers to pulls of unknown keys are 12 bytes: the header is most of it.
const frameHeaderSize = int(unsafe.Sizeof([]byte(nil)))

// queueCost is what queueing frame adds to the queue: its bytes and its slice header.
// The bound on the queue counts it, so that a flood of small answers cannot make the
// queue's arrays hold twice the bound.
func queueCost(frame []byte) int { return len(frame) + frameHeaderSize }

// enqueue queues frame for writing. A push that would take the queue past its bound
// closes the connection (counted as slow); it reports whether the frame was queued.
// It never blocks: it is called under entry locks.
func (c *conn) enqueue(frame []byte, push bool) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	cost := queueCost(frame)
	if c.queued+cost > c.svc.cfg.MaxQueueBytes && (push || c.queued > 0) {
		c.mu.Unlock()
		c.svc.stats.slowClosed.Add(1)
		c.close()
		return false
	}
	c.queue = append(c.queue, frame)
	c.queued += cost
	c.mu.Unlock()
	if push { // a pull's answer is written by the reader itself (readLoop, waitRoom)
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// close closes the connection once; both goroutines then end.
func (c *conn) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.done)
	c.nc.Close()
}

// waitRoom blocks until the queue is at most half full, writing it itself when the
// writer goroutine is idle; false if the connection closed.
func (c *conn) waitRoom() bool {
	limit := c.svc.cfg.MaxQueueBytes / 2
	for {
		c.mu.Lock()
		queued, closed := c.queued, c.closed
		c.mu.Unlock()
		if closed {
			return false
		}
		if queued <= limit {
			return true
		}
		if frames := c.takeQueue(); frames != nil {
			err := c.write(frames)
			c.doneWriting(frames)
			if c.writeFailed(err) != nil {
				return false
			}
			continue
		}
		select {
		case <-c.room:
		case <-c.done:
			return false
		}
	}
}

// takeQueue takes the queued frames for writing, unless another goroutine is writing
// or nothing is queued (nil). The caller must then call doneWriting.
func (c *conn) takeQueue() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writing || len(c.queue) == 0 {
		return nil
	}
	c.writing = true
	frames := c.queue
	c.queue, c.queued = c.spare[:0], 0
	return frames
}

// doneWriting ends a takeQueue, keeping frames' array for the next swap, and wakes the
// writer goroutine when more was queued meanwhile.
func (c *conn) doneWriting(frames [][]byte) {
	clear(frames)
	c.mu.Lock()
	c.spare = frames[:0]
	c.writing = false
	more := len(c.queue) > 0
	c.mu.Unlock()
	select {
	case c.room <- struct{}{}:
	default:
	}
	if more {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// flush writes what is queued from the calling goroutine, unless the writer goroutine
// is at it.
func (c *conn) flush() error {
	frames := c.takeQueue()
	if frames == nil {
		return nil
	}
	err := c.write(frames)
	c.doneWriting(frames)
	return c.writeFailed(err)
}

// writeLoop writes what is queued until the connection closes or a write fails.
func (c *conn) writeLoop() {
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		frames := c.takeQueue()
		if frames == nil {
			continue
		}
		err := c.write(frames)
		c.doneWriting(frames)
		if c.writeFailed(err) != nil {
			return
		}
	}
}

// writeFailed closes the connection after a failed write, counting it as slow when the
// write timed out (blocked for WriteTimeout), and returns err.
func (c *conn) writeFailed(err error) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.svc.stats.slowClosed.Add(1)
	}
	c.close()
	return err
}

// write writes frames: a single one as it is, more gathered into chunks of up to
// writeChunk bytes. Each write may block for WriteTimeout at most.
func (c *conn) write(frames [][]byte) error {
	if len(frames) == 1 {
		return c.writeChunk(frames[0])
	}
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	for i, f := range frames {
		buf.B = append(buf.B, f...)
		if len(buf.B) >= writeChunk || i == len(frames)-1 {
			if err := c.writeChunk(buf.B); err != nil {
				return err
			}
			buf.B = buf.B[:0]
		}
	}
	return nil
}

// writeChunk writes b. The write deadline is moved only when less than half of
// WriteTimeout is left of it, which spares a timer update on most writes.
func (c *conn) writeChunk(b []byte) error {
	now := time.Now()
	if c.deadline.Sub(now) < c.svc.cfg.WriteTimeout/2 {
		c.deadline = now.Add(c.svc.cfg.WriteTimeout)
		if err := c.nc.SetWriteDeadline(c.deadline); err != nil {
			return err
		}
	}
	if _, err := c.nc.Write(b); err != nil {
		return err
	}
	return nil
}

// keepWhileSubscribed tells tcpserve to keep c when it falls silent while it holds a
// subscription: a Lars agent that pulled its keys sends nothing more while it waits for
// pushes. Called when c's first subscription is made and when its last is given back.
func (c *conn) keepWhileSubscribed(on bool) { c.svc.server.SetKept(c.nc, on) }
