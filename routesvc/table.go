package routesvc

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/lb"
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
	tooLarge      atomic.Uint64
	pushes        atomic.Uint64 // frames queued to subscribers because their key changed

	// fanout is called with each change's fan-out duration and subscriber count.
	fanout func(d time.Duration, subscribers int)
}

type tableShard struct {
	mu sync.RWMutex // guards m; taken for writing only to add or remove an entry
	m  map[uint64]*entry
}

// entry is one key. Lock order: tableShard.mu before entry.mu, entry.mu before conn.mu.
type entry struct {
	key lb.Key
	mu  sync.Mutex // guards the fields below
	r   *route     // never nil
	// subs are the connections subscribed to the key; nil until the first.
	subs map[*conn]struct{}
	// dead is set when the entry has left its shard; a caller that found it before
	// must look the key up again.
	dead bool
}

func newTable() *table {
	t := &table{}
	for i := range t.shards {
		t.shards[i].m = make(map[uint64]*entry)
	}
	return t
}

func (t *table) shardOf(k uint64) *tableShard {
	// Fibonacci hashing spreads consecutive modids and cmdids over the shards.
	return &t.shards[(k*0x9E3779B97F4A7C15)>>(64-6)]
}

// emptyRoute returns the answer with no hosts for k.
func emptyRoute(k lb.Key) *route {
	r, _ := newRoute(k, nil)
	return r
}

// get returns the live entry of k, creating it (with no hosts) when create is set.
// It returns it locked, or nil when k has no entry and create is not set.
func (t *table) get(k lb.Key, create bool) *entry {
	pk := packKey(k)
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
				e = &entry{key: k, r: emptyRoute(k)}
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
	if len(e.r.hosts) > 0 || len(e.subs) > 0 {
		e.mu.Unlock()
		return
	}
	e.mu.Unlock()
	pk := packKey(e.key)
	sh := t.shardOf(pk)
	sh.mu.Lock()
	e.mu.Lock()
	if !e.dead && len(e.r.hosts) == 0 && len(e.subs) == 0 && sh.m[pk] == e {
		delete(sh.m, pk)
		e.dead = true
	}
	e.mu.Unlock()
	sh.mu.Unlock()
}

// subscribe subscribes c to k and queues the key's current route to c, in one step
// under the key's lock, so that no push of a newer route can overtake it. It reports
// whether the frame could be queued (false: c is closed or full). It is called by c's
// reader goroutine.
func (t *table) subscribe(c *conn, k lb.Key) bool {
	e := t.get(k, true)
	if _, ok := e.subs[c]; !ok {
		if e.subs == nil {
			e.subs = make(map[*conn]struct{})
		}
		e.subs[c] = struct{}{}
		if c.keys == nil {
			c.keys = make(map[*entry]struct{})
		}
		c.keys[e] = struct{}{}
		c.subs.Add(1)
		t.subscriptions.Add(1)
	}
	ok := c.enqueue(e.r.frame, false)
	e.mu.Unlock()
	return ok
}

// unsubscribe removes c's subscription to k and reports whether c held one; the entry
// is freed when nothing else holds it. It is called by c's reader goroutine.
func (t *table) unsubscribe(c *conn, k lb.Key) bool {
	e := t.get(k, false)
	if e == nil {
		return false
	}
	_, ok := e.subs[c]
	if ok {
		delete(e.subs, c)
		delete(c.keys, e)
		c.subs.Add(-1)
		t.subscriptions.Add(-1)
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
		if _, ok := e.subs[c]; ok {
			delete(e.subs, c)
			t.subscriptions.Add(-1)
		}
		t.release(e)
	}
	c.keys = nil
	c.subs.Store(0)
}

// set makes hosts (sorted, no duplicates; nil or empty: the key is gone) the route of k
// and pushes it to every subscriber when it differs from the current one. It reports
// whether it did.
func (t *table) set(k lb.Key, hosts []lb.Host) bool {
	e := t.get(k, len(hosts) > 0)
	if e == nil {
		return false
	}
	if e.r.sameHosts(hosts) {
		t.release(e)
		return false
	}
	var r *route
	if len(hosts) == 0 {
		r = emptyRoute(k)
	} else {
		var tooLarge bool
		if r, tooLarge = newRoute(k, hosts); tooLarge {
			t.tooLarge.Add(1)
		}
	}
	t.count(e.r, -1)
	t.count(r, +1)
	e.r = r
	if n := len(e.subs); n > 0 {
		// Counted before the frames are queued: whoever reads a push sees it counted.
		t.pushes.Add(uint64(n))
		start := time.Now()
		for c := range e.subs {
			c.enqueue(r.frame, true)
		}
		if t.fanout != nil {
			t.fanout(time.Since(start), n)
		}
	}
	t.release(e)
	return true
}

// count adds sign times r's figures to the table's gauges.
func (t *table) count(r *route, sign int64) {
	if n := int64(len(r.hosts)); n > 0 {
		t.keys.Add(sign)
		t.hosts.Add(sign * n)
	}
}

// keyRoute is one key's hosts and subscriber count, for walk.
type keyRoute struct {
	Key         lb.Key
	Hosts       []lb.Host // must not be modified
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
			kr := keyRoute{Key: e.key, Hosts: e.r.hosts, Subscribers: len(e.subs)}
			dead := e.dead
			e.mu.Unlock()
			if !dead {
				f(kr)
			}
		}
	}
}
