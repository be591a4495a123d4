package lb

import (
	"sync"
	"sync/atomic"

	"github.com/larsgo/lars/route"
)

// A route service that takes unsubscribes (the protocol extension, msgid 102) frees
// the keys an agent gives back. While the route client has a connection up it has the
// table record the keys it drops (an empty answer in Lars mode, a negative key past
// NegativeTTL, a key never answered past NoAnswerTTL, a key gone from a reload) with
// TrackDropped, takes them with TakeDropped and writes them out.

// droppedKeys is the bounded list of keys removed from the table since the route
// client last took them.
type droppedKeys struct {
	on     atomic.Bool
	lost   atomic.Uint64 // keys not recorded because the list was full
	signal chan struct{} // capacity 1: the list is not empty
	mu     sync.Mutex
	keys   []route.Key // guarded by mu
	max    int
}

// TrackDropped starts (on) or stops recording the keys the table removes, forgetting
// those recorded so far either way, and returns a channel that receives a value when
// keys are waiting to be taken with TakeDropped (the same channel at every call). At
// most MaxKeys keys wait; more are counted (Stats.DroppedLost). A static table records
// nothing. The route client turns it on for each connection and off when it is lost:
// a subscription belongs to a connection.
func (t *Table) TrackDropped(on bool) <-chan struct{} {
	d := &t.dropped
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.signal == nil {
		d.signal = make(chan struct{}, 1)
		d.max = int(t.maxKeys)
	}
	d.keys = d.keys[:0]
	if !on && cap(d.keys) > 1024 {
		d.keys = nil // a large list is not kept while nothing is recorded
	}
	d.on.Store(on && !t.static)
	return d.signal
}

// TakeDropped appends to dst the keys removed since the last call (in order of
// removal, a key removed twice listed twice) and returns it. It does not allocate
// when dst has room.
func (t *Table) TakeDropped(dst []route.Key) []route.Key {
	d := &t.dropped
	d.mu.Lock()
	dst = append(dst, d.keys...)
	d.keys = d.keys[:0]
	d.mu.Unlock()
	return dst
}

// Has reports whether the table holds the key, without creating it or queuing a pull.
// It does not allocate.
func (t *Table) Has(modid, cmdid int32) bool {
	return t.lookup(route.PackKey(modid, cmdid)) != nil
}

// recordDropped adds a removed key to the list, if tracking is on.
func (t *Table) recordDropped(key uint64) {
	d := &t.dropped
	if !d.on.Load() {
		return
	}
	modid, cmdid := route.UnpackKey(key)
	d.mu.Lock()
	if len(d.keys) >= d.max {
		d.mu.Unlock()
		d.lost.Add(1)
		return
	}
	d.keys = append(d.keys, route.Key{Modid: modid, Cmdid: cmdid})
	d.mu.Unlock()
	select {
	case d.signal <- struct{}{}:
	default:
	}
}
