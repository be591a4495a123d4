package upstream

import (
	"net"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// The protocol extension of docs/PROTOCOL.md: the client sends one Hello as the first
// frame of every connection. A route service of ours answers it with a HelloReply; only
// then does the client send keepalive Hellos (at a third of the idle timeout the
// service gave) and, if the service takes them, Unsubscribes of the keys the table
// drops. Lars's lars_dns ignores the Hello (one line on its stderr) and answers the
// pulls that follow: a route answer before any HelloReply says the peer is Lars's, and
// it gets nothing but Lars frames.

// Peer kinds of a connection, as PeerKind reports them.
const (
	PeerUnknown = "unknown" // no frame read yet on the connection, or none
	PeerOurs    = "ours"    // answered the Hello: takes the extension
	PeerLars    = "lars"    // answered a pull without answering the Hello
)

// peer is what the client learnt of the connection's route service (an atomic int32).
const (
	peerUnknown int32 = iota
	peerOurs
	peerLars
)

func peerName(p int32) string {
	switch p {
	case peerOurs:
		return PeerOurs
	case peerLars:
		return PeerLars
	}
	return PeerUnknown
}

// maxUnsubscribeKeys bounds the keys of one Unsubscribe frame: at most 24 bytes a key
// encoded, 1024 keys stay far below codec.MaxBodySize.
const maxUnsubscribeKeys = 1024

// minKeepalive is the shortest keepalive period, whatever idle timeout a service
// announces: a HelloReply cannot make the client spin.
const minKeepalive = 10 * time.Millisecond

// helloReply is what the reader passes to the Run goroutine from the first HelloReply
// of a connection.
type helloReply struct {
	features uint32
	idle     time.Duration
}

// unsubscribes says whether a reply lets the client send Unsubscribes.
func (r helloReply) unsubscribes() bool {
	return r.features&uint32(larspb.Feature_FEATURE_UNSUBSCRIBE) != 0
}

// keepalivePeriod returns how often Hellos keep the connection, 0 for never.
func (r helloReply) keepalivePeriod() time.Duration {
	if r.idle <= 0 {
		return 0
	}
	return max(r.idle/3, minKeepalive)
}

// helloFeatures are the features the client's Hello announces: it takes Unsubscribes
// and reads the route extension (IPv6 hosts, weights, zones) in routes.
const helloFeatures = uint32(larspb.Feature_FEATURE_UNSUBSCRIBE | larspb.Feature_FEATURE_ROUTE_EXT)

// writeHello writes one Hello frame.
func (c *RouteClient) writeHello(conn net.Conn) error {
	buf := bufPool.Get()
	defer bufPool.Put(buf)
	c.hello.Features = c.announced()
	buf.B, _ = codec.AppendFrame(buf.B, codec.MsgHello, &c.hello) // a few bytes: never too large
	if err := writeAll(conn, buf.B, c.link.writeTimeout); err != nil {
		c.writeErrors.Add(1)
		return err
	}
	c.hellosSent.Add(1)
	return nil
}

// readHelloReply handles a HelloReply read from the connection: the first one of the
// connection, while its peer is not known to be Lars's, makes it ours and is passed to
// the Run goroutine. A body that does not decode is dropped and counted.
func (c *RouteClient) readHelloReply(body []byte) {
	c.helloResp.Reset()
	if err := c.helloResp.UnmarshalVT(body); err != nil {
		c.badFrame("cannot decode hello reply", codec.MsgHelloReply, err)
		return
	}
	c.helloReplies.Add(1)
	if !c.peer.CompareAndSwap(peerUnknown, peerOurs) {
		return
	}
	r := helloReply{features: c.helloResp.Features,
		idle: time.Duration(c.helloResp.IdleTimeoutMs) * time.Millisecond}
	select {
	case c.replies <- r:
	default: // cannot happen: one reply a connection, drained at its start
	}
}

// routeAnswerRead notes a route answer: one before any HelloReply says the peer is
// Lars's.
func (c *RouteClient) routeAnswerRead() {
	if c.peer.Load() == peerUnknown && c.peer.CompareAndSwap(peerUnknown, peerLars) {
		select {
		case c.larsSeen <- struct{}{}:
		default:
		}
	}
}

// startHello resets the connection's peer state and has the table record the keys it
// drops from now on (lb.Table.TrackDropped): those dropped before were subscribed on
// an earlier connection, if any, and are gone with it.
func (c *RouteClient) startHello() {
	c.peer.Store(peerUnknown)
	for range len(c.replies) {
		select {
		case <-c.replies:
		default:
		}
	}
	select {
	case <-c.larsSeen:
	default:
	}
	c.table.TrackDropped(true)
}

// giveBack writes Unsubscribes for the keys the table dropped, when the connection's
// peer takes them (unsub: its HelloReply said so). While the peer is unknown the keys
// wait in the table; for a peer that does not take them they are forgotten, counted.
// A key back in the table since it was dropped is left out: its new pull, written
// after this, subscribes it again, and an Unsubscribe would cancel that. It does not
// allocate once its buffers have grown.
func (c *RouteClient) giveBack(conn net.Conn, unsub bool) error {
	peer := c.peer.Load()
	if peer == peerUnknown {
		return nil
	}
	c.dropped = c.table.TakeDropped(c.dropped[:0])
	if len(c.dropped) == 0 {
		return nil
	}
	if peer != peerOurs || !unsub {
		c.droppedNotSent.Add(uint64(len(c.dropped)))
		return nil
	}
	keys := c.dropped[:0]
	for _, k := range c.dropped {
		if c.table.Has(k.Modid, k.Cmdid) {
			c.droppedNotSent.Add(1)
			continue
		}
		keys = append(keys, k)
	}
	for len(keys) > 0 {
		n := min(len(keys), maxUnsubscribeKeys)
		if err := c.writeUnsubscribe(conn, keys[:n]); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// writeUnsubscribe writes one Unsubscribe frame of at most maxUnsubscribeKeys keys.
func (c *RouteClient) writeUnsubscribe(conn net.Conn, keys []route.Key) error {
	if len(c.unsubKeys) < len(keys) {
		c.unsubKeys = make([]larspb.RouteKey, maxUnsubscribeKeys)
		c.unsubPtrs = make([]*larspb.RouteKey, maxUnsubscribeKeys)
		for i := range c.unsubKeys {
			c.unsubPtrs[i] = &c.unsubKeys[i]
		}
	}
	for i, k := range keys {
		c.unsubKeys[i].Modid, c.unsubKeys[i].Cmdid = k.Modid, k.Cmdid
	}
	c.unsub.Keys = c.unsubPtrs[:len(keys)]
	buf := bufPool.Get()
	defer bufPool.Put(buf)
	var err error
	if buf.B, err = codec.AppendFrame(buf.B, codec.MsgUnsubscribe, &c.unsub); err != nil {
		return err // cannot happen: maxUnsubscribeKeys keys fit a frame
	}
	if err := writeAll(conn, buf.B, c.link.writeTimeout); err != nil {
		c.writeErrors.Add(1)
		return err
	}
	c.unsubscribeFrames.Add(1)
	c.unsubscribedKeys.Add(uint64(len(keys)))
	return nil
}
