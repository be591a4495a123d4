package ctlplane

import (
	"sync/atomic"

	"github.com/larsgo/lars/route"
)

// The instances a registration run registers say which they are, so that a
// subscriber can tell each host of a push without another channel: instance slot j of
// agent a has the address regIPBase + a and the port tag + j, where tag is drawn for
// each run (hosts left by an earlier run do not match).
const (
	regIPBase = 100<<24 | 64<<16 // 100.64.0.0/10
	// maxTagSlots bounds the instance slots of one agent: the ports tag .. tag+slots-1.
	maxTagSlots = 65535 - minTag - 1000
	// maxRegKeys bounds the keys a run spreads its instances over: each subscriber
	// pulls every one.
	maxRegKeys = 1 << 20
)

// How an instance's registration ended.
const (
	endKept    int32 = iota // still renewed
	endDropped              // LEASE_DROP by the churn
	endExpired              // its agent stopped renewing it
	endCleanup              // LEASE_DROP at the end of the run (not measured)
)

// Phases an instance was registered in.
const (
	phaseStorm  uint8 = iota // at once, at the start
	phaseSteady              // a replacement, during the steady phase
)

// regInstance is one instance slot: registered once at most, then ended once at most.
// Its owning agent's goroutine writes it; subscribers read it.
type regInstance struct {
	key   int32 // its key's index in the run's key space
	phase uint8
	// newAt is when its LEASE_NEW was written (ns since the epoch), 0 before.
	newAt atomic.Int64
	// renewedAt is when its latest LEASE_NEW or LEASE_KEEP was written.
	renewedAt atomic.Int64
	// end says how its registration ended (endKept while it has not); endAt is when:
	// its LEASE_DROP's write, or its lease's end (the last renewal + ttl).
	end   atomic.Int32
	endAt atomic.Int64
	// status is the LeaseStatus its LEASE_NEW got + 1; 0 before the answer.
	status atomic.Int32
	// refused is set when the service answered it LEASE_DENIED, _INVALID, _STATIC or
	// _REMOVED: as the agent does, it is no longer renewed.
	refused atomic.Bool
	// up and down count the subscribers that saw it appear, and go.
	up, down atomic.Int32
	// upLast and downLast are the latest of those sightings (ns since the epoch).
	upLast, downLast atomic.Int64
}

// regIDs encodes and decodes the run's instances.
type regIDs struct {
	tag   int32
	slots int // instance slots per agent
	n     int // instances in all: agents x slots
}

// host returns instance g's address.
func (ids regIDs) host(g int) route.Host {
	return route.FromWire(regIPBase+int32(g/ids.slots), ids.tag+int32(g%ids.slots))
}

// instance returns the instance whose address is ip:port, false when it is none of
// the run's.
func (ids regIDs) instance(ip, port int32) (int, bool) {
	a := int64(ip) - regIPBase
	j := int64(port) - int64(ids.tag)
	if a < 0 || j < 0 || j >= int64(ids.slots) {
		return 0, false
	}
	g := a*int64(ids.slots) + j
	if g >= int64(ids.n) {
		return 0, false
	}
	return int(g), true
}

// newRegTag returns a port base that leaves room for slots ports, different from the
// previous runs' of this process and, very likely, of other processes.
func newRegTag(slots int) int32 {
	span := int64(65535 - slots - minTag)
	seed := newTag()
	return int32(minTag + int64(seed)%span)
}
