package routesvc

import (
	"bufio"
	"errors"
	"io"
	"math"
	"net"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
	"github.com/valyala/bytebufferpool"
)

// errBadFrame ends a connection that sent a malformed frame: a bad length, a body that
// does not parse, or a pull or Hello larger than the read buffer.
var errBadFrame = errors.New("bad frame")

// The frames a route service takes; any other well-formed frame is dropped and counted
// (docs/PROTOCOL.md), the connection kept.
func takes(id codec.MsgID) bool {
	return id == codec.MsgGetRouteRequest || id == codec.MsgHello || id == codec.MsgUnsubscribe
}

// readLoop serves frames until the connection fails or sends a malformed frame, and
// returns why. Once it has served every whole frame it has read, it writes their
// answers itself when the writer goroutine is idle, as a request-response server
// would: one write for the batch, and no wake-up of another goroutine. (Waiting for an
// empty buffer instead would let an agent that streams pulls fill the queue to its
// bound, never at a frame's edge.)
func (c *conn) readLoop() error {
	for {
		if err := c.serveFrame(); err != nil {
			return err
		}
		if !c.holdsFrame() {
			if err := c.flush(); err != nil {
				return err
			}
		}
	}
}

// holdsFrame reports whether the read buffer holds a whole frame, or a header whose
// length is bad (the next serveFrame ends the connection): no read is needed to serve
// the next frame.
func (c *conn) holdsFrame() bool {
	n := c.br.Buffered()
	if n < codec.HeaderSize {
		return false
	}
	hdr, _ := c.br.Peek(codec.HeaderSize) // buffered: no read
	_, bodyLen := codec.ReadHeader(hdr)
	return codec.CheckBodyLen(bodyLen) != codec.ReasonOK || int(bodyLen) <= n-codec.HeaderSize
}

// serveFrame reads and serves the next frame. A frame of an id the service does not
// take is skipped unread and counted. Each served frame marks the connection active.
func (c *conn) serveFrame() error {
	id, size, err := readHeader(c.br)
	if err != nil {
		if errors.Is(err, errBadFrame) && id == codec.MsgLease && c.svc.leases != nil {
			c.svc.leases.stats.frames[leaseFrameOversized].Add(1)
		}
		return err
	}
	switch {
	case !takes(id) && !(id == codec.MsgLease && c.svc.leases != nil):
		if _, err := c.br.Discard(size); err != nil {
			return err
		}
		c.svc.stats.dropFrame(id)
		return nil
	case size <= c.br.Size():
		frame, err := c.br.Peek(size)
		if err != nil {
			return err
		}
		if err := c.handle(id, frame[codec.HeaderSize:]); err != nil {
			return err
		}
		c.br.Discard(size)
	case id == codec.MsgUnsubscribe || id == codec.MsgLease:
		// Only an Unsubscribe of many keys or a Lease of many instances is this large:
		// read apart, in a pooled buffer.
		if err := c.serveLarge(id, size); err != nil {
			return err
		}
	default:
		return errBadFrame // a pull or a Hello is a few bytes
	}
	c.svc.server.Touch(c.nc)
	return nil
}

// serveLarge reads a frame larger than the read buffer and serves it.
func (c *conn) serveLarge(id codec.MsgID, size int) error {
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	buf.B = append(buf.B[:0], make([]byte, size)...)
	if _, err := io.ReadFull(c.br, buf.B); err != nil {
		return err
	}
	return c.handle(id, buf.B[codec.HeaderSize:])
}

// readHeader peeks the next frame's header and returns its id and whole size. A bad
// length is a bad frame.
func readHeader(br *bufio.Reader) (id codec.MsgID, size int, err error) {
	hdr, err := br.Peek(codec.HeaderSize)
	if err != nil {
		return 0, 0, err
	}
	id, n := codec.ReadHeader(hdr)
	if codec.CheckBodyLen(n) != codec.ReasonOK {
		return id, 0, errBadFrame
	}
	return id, codec.HeaderSize + int(n), nil
}

// handle serves one frame the service takes. A pull subscribes the connection to its
// key and queues the key's route; it does not allocate once the connection has
// subscribed to the key. A Hello is answered with the HelloReply; an Unsubscribe
// frees the keys it names.
func (c *conn) handle(id codec.MsgID, body []byte) error {
	switch id {
	case codec.MsgGetRouteRequest:
		return c.pull(body)
	case codec.MsgHello:
		return c.answerHello(body)
	case codec.MsgUnsubscribe:
		return c.unsubscribe(body)
	case codec.MsgLease:
		return c.lease(body)
	}
	return errBadFrame
}

func (c *conn) pull(body []byte) error {
	c.req.ResetVT()
	if err := c.req.UnmarshalVT(body); err != nil {
		return errBadFrame
	}
	if !c.waitRoom() {
		return net.ErrClosed
	}
	c.svc.stats.pulls.Add(1)
	c.peer.Served(1)
	k := route.Key{Modid: c.req.Modid, Cmdid: c.req.Cmdid}
	if c.grant != nil && !c.grant.Allows(k) {
		c.svc.stats.pullsDenied.Add(1)
		if !c.enqueue(emptyFrame(k), false) {
			return net.ErrClosed
		}
		return nil
	}
	if !c.svc.table.subscribe(c, k) {
		return net.ErrClosed
	}
	return nil
}

// answerHello queues the service's HelloReply, encoded once (Service.helloReply).
func (c *conn) answerHello(body []byte) error {
	c.hello.Reset()
	if err := c.hello.UnmarshalVT(body); err != nil {
		return errBadFrame
	}
	if !c.waitRoom() {
		return net.ErrClosed
	}
	c.svc.stats.hellos.Add(1)
	c.routeExt.Store(c.hello.Features&uint32(larspb.Feature_FEATURE_ROUTE_EXT) != 0)
	if !c.enqueue(c.svc.helloReply, false) {
		return net.ErrClosed
	}
	return nil
}

// unsubscribe removes the connection's subscriptions to the keys the frame names.
func (c *conn) unsubscribe(body []byte) error {
	c.unsub.Reset()
	if err := c.unsub.UnmarshalVT(body); err != nil {
		return errBadFrame
	}
	c.svc.stats.unsubscribeFrames.Add(1)
	for _, k := range c.unsub.Keys {
		if k == nil {
			continue
		}
		if c.svc.table.unsubscribe(c, route.Key{Modid: k.Modid, Cmdid: k.Cmdid}) {
			c.svc.stats.unsubscribed.Add(1)
		} else {
			c.svc.stats.unsubscribeMisses.Add(1)
		}
	}
	return nil
}

// encodeHelloReply returns the HelloReply frame of a service that closes connections
// silent for idle (0 or negative: never): it takes Unsubscribe, and Lease when
// register (a store that keeps leases; who may register is decided per entry).
func encodeHelloReply(idle time.Duration, register bool) []byte {
	reply := larspb.HelloReply{Features: uint32(larspb.Feature_FEATURE_UNSUBSCRIBE)}
	if register {
		reply.Features |= uint32(larspb.Feature_FEATURE_REGISTER)
	}
	if idle > 0 {
		reply.IdleTimeoutMs = uint32(min(idle.Milliseconds(), math.MaxUint32))
	}
	frame, err := codec.AppendFrame(nil, codec.MsgHelloReply, &reply)
	if err != nil {
		panic(err) // a few bytes: cannot be too large
	}
	return frame
}
