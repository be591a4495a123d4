package upstream

import (
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// RouteTable is what the route client needs of the table it feeds (the agent's
// lb.Table): the pulls the table queues and their bookkeeping across connections, the
// keys it drops, and a place for the routes the service answers or pushes. Each
// method is lb.Table's, documented there.
type RouteTable interface {
	// Pulls is the queue of keys to ask the service for, one pull each.
	Pulls() <-chan route.Key
	// Reconnected appends to dst the keys to pull again on a new connection (every key
	// not waiting in the Pulls queue) and returns it.
	Reconnected(dst []route.Key) []route.Key
	// MarkPulling records that keys are about to be pulled outside the Pulls queue,
	// and returns those to write (keys compacted in place).
	MarkPulling(keys []route.Key) []route.Key
	// TrackDropped turns on or off the record of the keys the table drops; the channel
	// it returns is signalled when there are some to take.
	TrackDropped(on bool) <-chan struct{}
	// TakeDropped appends the keys dropped since the last call to dst and returns it.
	TakeDropped(dst []route.Key) []route.Key
	// Has reports whether the table holds the key (modid, cmdid).
	Has(modid, cmdid int32) bool
	// ApplyRoute sets the key's hosts, from an answer or a push.
	ApplyRoute(modid, cmdid int32, hosts []route.Host)
}

// The agent's table is one.
var _ RouteTable = (*lb.Table)(nil)
