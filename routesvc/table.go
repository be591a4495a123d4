package routesvc

import (
	"bytes"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/route"
	"google.golang.org/protobuf/encoding/protowire"
)

// numShards spreads the keys over this many maps, each with its own lock, so that pulls
// of different keys rarely meet on a lock. A power of two.
const numShards = 64

// table holds every key the service knows: the keys with hosts in the store and the
// keys some connection asked for. Each key is an entry holding its current route and
// the connections subscribed to it. A change to one key locks only that key's entry:
// its cost does not grow with the table.
type table struct {
	shards [numShards]tableShard

	keys          atomic.Int64 // entries with at least one host
	hosts         atomic.Int64 // hosts over all keys: the RouteData rows served
	subscriptions atomic.Int64 // (connection, key) pairs
	unknownSubs   atomic.Int64 // the pairs whose key has no hosts
	// maxSubs, maxSubsPerConn and maxUnknownPerConn bound the subscriptions (Config);
	// refused counts the pulls answered without one, by cause.
	maxSubs, maxSubsPerConn, maxUnknownPerConn int64
	refused                                    [numSubRefusals]atomic.Uint64
	tooLarge                                   atomic.Uint64
	pushes                                     atomic.Uint64 // frames queued to subscribers because their key changed

	// fanout is called with each change's fan-out duration and subscriber count.
	fanout func(d time.Duration, subscribers int)
}

type tableShard struct {
	mu sync.RWMutex // guards m; taken for writing only to add or remove an entry
	m  map[uint64]*entry
}

// entry is one key. Lock order: tableShard.mu before entry.mu, entry.mu before conn.mu.
// It is kept small: a key asked for and never served costs an entry, a shard slot and
// the connection's slot (about 100 bytes, TestMemoryPerSubscription).
type entry struct {
	key route.Key
	mu  sync.Mutex   // guards the fields below
	r   *routeAnswer // never nil; noHosts while the key has none
	// one is a subscribed connection and subs the others (nil until a second one): most
	// keys are held by one connection, and a map for one costs more than the entry.
	one  *conn
	subs map[*conn]struct{}
	// dead is set when the entry has left its shard; a caller that found it before
	// must look the key up again.
	dead bool
}

// noHosts is the route of every key without hosts. Its frame is nil: the answer names
// the key, so it is encoded when needed (emptyFrame) rather than held for each key.
var noHosts = &routeAnswer{}

// emptyFrame returns the answer with no hosts for k, encoded by hand in one allocation
// of its exact size (12 bytes for small ids): the frame newRoute(k, nil) would build
// (TestEmptyFrameMatchesEncoder), without the garbage.
func emptyFrame(k route.Key) []byte {
	var buf [2 * (1 + binary.MaxVarintLen64)]byte
	body := buf[:0]
	if k.Modid != 0 {
		body = protowire.AppendTag(body, 1, protowire.VarintType)
		body = protowire.AppendVarint(body, uint64(int64(k.Modid)))
	}
	if k.Cmdid != 0 {
		body = protowire.AppendTag(body, 2, protowire.VarintType)
		body = protowire.AppendVarint(body, uint64(int64(k.Cmdid)))
	}
	frame := make([]byte, 0, codec.HeaderSize+len(body))
	frame = codec.AppendHeader(frame, codec.MsgGetRouteResponse, len(body))
	return append(frame, body...)
}

// answer returns the frame that answers c's pull of e's key: the route as Lars writes
// it, or with the extension fields when c's Hello said FEATURE_ROUTE_EXT. The caller
// holds e.mu.
func (e *entry) answer(c *conn) []byte {
	if e.r.frame == nil {
		return emptyFrame(e.key)
	}
	return e.r.frameFor(c.routeExt.Load())
}

// subscribers returns how many connections are subscribed to e. The caller holds e.mu.
func (e *entry) subscribers() int {
	n := len(e.subs)
	if e.one != nil {
		n++
	}
	return n
}

// has reports whether c is subscribed to e. The caller holds e.mu.
func (e *entry) has(c *conn) bool {
	if e.one == c {
		return true
	}
	_, ok := e.subs[c]
	return ok
}

// add subscribes c, which is not subscribed, to e. The caller holds e.mu.
func (e *entry) add(c *conn) {
	if e.one == nil {
		e.one = c
		return
	}
	if e.subs == nil {
		e.subs = make(map[*conn]struct{})
	}
	e.subs[c] = struct{}{}
}

// remove unsubscribes c from e and reports whether it was subscribed. The caller holds
// e.mu.
func (e *entry) remove(c *conn) bool {
	if e.one == c {
		e.one = nil
		return true
	}
	if _, ok := e.subs[c]; !ok {
		return false
	}
	delete(e.subs, c)
	if len(e.subs) == 0 {
		e.subs = nil
	}
	return true
}

// each calls f for every subscribed connection. The caller holds e.mu.
func (e *entry) each(f func(c *conn)) {
	if e.one != nil {
		f(e.one)
	}
	for c := range e.subs {
		f(c)
	}
}

// newTable returns an empty table that holds at most cfg.MaxSubs subscriptions, at
// most cfg.MaxSubsPerConn of one connection, of which at most
// cfg.MaxUnknownSubsPerConn to keys without hosts.
func newTable(cfg Config) *table {
	t := &table{maxSubs: int64(cfg.MaxSubs), maxSubsPerConn: int64(cfg.MaxSubsPerConn),
		maxUnknownPerConn: int64(cfg.MaxUnknownSubsPerConn)}
	for i := range t.shards {
		t.shards[i].m = make(map[uint64]*entry)
	}
	return t
}

func (t *table) shardOf(k uint64) *tableShard {
	// Fibonacci hashing spreads consecutive modids and cmdids over the shards.
	return &t.shards[(k*0x9E3779B97F4A7C15)>>(64-6)]
}

// get returns the live entry of k, creating it (with no hosts) when create is set.
// It returns it locked, or nil when k has no entry and create is not set.
func (t *table) get(k route.Key, create bool) *entry {
	pk := k.Pack()
	sh := t.shardOf(pk)
	for {
		sh.mu.RLock()
		e := sh.m[pk]
		sh.mu.RUnlock()
		if e == nil {
			if !create {
				return nil
			}
			sh.mu.Lock()
			if e = sh.m[pk]; e == nil {
				e = &entry{key: k, r: noHosts}
				sh.m[pk] = e
			}
			sh.mu.Unlock()
		}
		e.mu.Lock()
		if !e.dead {
			return e
		}
		e.mu.Unlock()
	}
}

// release unlocks e, first removing it from its shard when it has neither hosts nor
// subscribers, so that keys asked for once do not stay forever.
func (t *table) release(e *entry) {
	if len(e.r.hosts) > 0 || e.subscribers() > 0 {
		e.mu.Unlock()
		return
	}
	e.mu.Unlock()
	pk := e.key.Pack()
	sh := t.shardOf(pk)
	sh.mu.Lock()
	e.mu.Lock()
	if !e.dead && len(e.r.hosts) == 0 && e.subscribers() == 0 && sh.m[pk] == e {
		delete(sh.m, pk)
		e.dead = true
	}
	e.mu.Unlock()
	sh.mu.Unlock()
}

// subscribe subscribes c to k and queues the key's current route to c, in one step
// under the key's lock, so that no push of a newer route can overtake it. Past c's or
// the table's subscription bound (admit) the route is queued all the same but no
// subscription is recorded, and a key without hosts is not even added to the table:
// such pulls cost nothing that stays. It reports whether the frame could be queued
// (false: c is closed or full). It is called by c's reader goroutine.
func (t *table) subscribe(c *conn, k route.Key) bool {
	e := t.get(k, false)
	if e == nil || !e.has(c) {
		if !t.admit(c, e == nil || len(e.r.hosts) == 0) {
			return t.answerUnsubscribed(c, k, e)
		}
		if e == nil {
			e = t.get(k, true) // only c's reader subscribes c: c is not subscribed to it
		}
		e.add(c)
		if c.keys == nil {
			c.keys = make(map[*entry]struct{})
		}
		c.keys[e] = struct{}{}
		if c.subs.Add(1) == 1 {
			c.keepWhileSubscribed(true)
		}
		if len(e.r.hosts) == 0 {
			c.unknown.Add(1)
			t.unknownSubs.Add(1)
		}
	}
	ok := c.enqueue(e.answer(c), false)
	t.release(e)
	return ok
}

// answerUnsubscribed queues k's route to c without subscribing c: from e, which is
// locked (nil: k has no entry, and so no hosts).
func (t *table) answerUnsubscribed(c *conn, k route.Key, e *entry) bool {
	if e == nil {
		return c.enqueue(emptyFrame(k), false)
	}
	ok := c.enqueue(e.answer(c), false)
	t.release(e)
	return ok
}

// unsubscribe removes c's subscription to k and reports whether c held one; the entry
// is freed when nothing else holds it. It is called by c's reader goroutine.
func (t *table) unsubscribe(c *conn, k route.Key) bool {
	e := t.get(k, false)
	if e == nil {
		return false
	}
	ok := e.remove(c)
	if ok {
		delete(c.keys, e)
		if c.subs.Add(-1) == 0 {
			c.keepWhileSubscribed(false)
		}
		t.dropped(c, e)
	}
	t.release(e)
	if len(c.keys) == 0 {
		c.keys = nil // a map keeps its size once grown: let it go
	}
	return ok
}

// unsubscribeAll removes c from every key it subscribed to; c must no longer read.
func (t *table) unsubscribeAll(c *conn) {
	for e := range c.keys {
		e.mu.Lock()
		if e.remove(c) {
			t.dropped(c, e)
		}
		t.release(e)
	}
	c.keys = nil
	c.subs.Store(0)
}

// dropped counts c's subscription to e removed. The caller holds e.mu.
func (t *table) dropped(c *conn, e *entry) {
	t.subscriptions.Add(-1)
	if len(e.r.hosts) == 0 {
		c.unknown.Add(-1)
		t.unknownSubs.Add(-1)
	}
}

// set makes hosts (sorted, no duplicates; nil or empty: the key is gone) the route of k
// and pushes it to every subscriber when it differs from the current one. It reports
// whether it did.
func (t *table) set(k route.Key, hosts []route.Host) bool {
	e := t.get(k, len(hosts) > 0)
	if e == nil {
		return false
	}
	if e.r.sameHosts(hosts) {
		t.release(e)
		return false
	}
	r := noHosts
	if len(hosts) > 0 {
		var tooLarge bool
		if r, tooLarge = newRoute(k, hosts); tooLarge {
			t.tooLarge.Add(1)
		}
	}
	n := e.subscribers()
	t.count(e.r, -1, n)
	t.count(r, +1, n)
	if wasUnknown := len(e.r.hosts) == 0; wasUnknown != (len(r.hosts) == 0) {
		delta := int64(1) // the key lost its hosts
		if wasUnknown {
			delta = -1
		}
		e.each(func(c *conn) { c.unknown.Add(delta) })
	}
	old := e.r
	e.r = r
	if n > 0 {
		lars, ext := r.frameFor(false), r.frameFor(true)
		if lars == nil {
			lars = emptyFrame(e.key)
			ext = lars
		}
		// A change Lars's frame does not show (a weight, a zone, an IPv6 host) is pushed
		// to the connections that read the extensions only.
		larsSame := old.frame != nil && r.ext != nil && bytes.Equal(old.frame, r.frame)
		sent := n
		if larsSame {
			sent = 0
			e.each(func(c *conn) {
				if c.routeExt.Load() {
					sent++
				}
			})
		}
		// Counted before the frames are queued: whoever reads a push sees it counted.
		t.pushes.Add(uint64(sent))
		start := time.Now()
		e.each(func(c *conn) {
			switch {
			case c.routeExt.Load():
				c.enqueue(ext, true)
			case !larsSame:
				c.enqueue(lars, true)
			}
		})
		if t.fanout != nil {
			t.fanout(time.Since(start), n)
		}
	}
	t.release(e)
	return true
}

// count adds sign times the figures of r, held by subs subscribers, to the table's
// gauges.
func (t *table) count(r *routeAnswer, sign int64, subs int) {
	if n := int64(len(r.hosts)); n > 0 {
		t.keys.Add(sign)
		t.hosts.Add(sign * n)
	} else {
		t.unknownSubs.Add(sign * int64(subs))
	}
}

// keyRoute is one key's hosts and subscriber count, for walk.
type keyRoute struct {
	Key         route.Key
	Hosts       []route.Host // must not be modified
	Subscribers int
}

// walk calls f for every key with hosts or subscribers, shard by shard, in no order.
// f must not call back into the table.
func (t *table) walk(f func(keyRoute)) {
	var batch []*entry
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		batch = batch[:0]
		for _, e := range sh.m {
			batch = append(batch, e)
		}
		sh.mu.RUnlock()
		for _, e := range batch {
			e.mu.Lock()
			kr := keyRoute{Key: e.key, Hosts: e.r.hosts, Subscribers: e.subscribers()}
			dead := e.dead
			e.mu.Unlock()
			if !dead {
				f(kr)
			}
		}
	}
}
