package ctlplane

import (
	"net"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/loadgen/stats"
	"github.com/larsgo/lars/route"
)

// agentReadBuffer is each simulated agent's first read buffer: a route frame of a few
// hosts fits many times over; the reader grows it for a larger frame. It keeps 10,000
// agents cheap.
const agentReadBuffer = 512

// seen values of a key before any route of this run arrived for it.
const (
	seenNothing = -2 // no answer yet
	seenOther   = -1 // answered, with routes that are not this run's (yet)
)

// dnsAgent is one simulated agent: one connection, one reading goroutine. Everything
// but the counters it adds to is owned by that goroutine once it runs.
type dnsAgent struct {
	run   *dnsRun
	nc    net.Conn
	fd    int // its socket, when an epoll reader reads it (pushReaders)
	sr    *codec.StreamReader
	resp  larspb.GetRouteResponse
	slots []int32 // its keys' slots, ascending
	// seen[i] is the newest change of slots[i] received: a change number, or
	// seenNothing / seenOther.
	seen     []int32
	pullAt   int64 // when the pulls were written, ns since the run's epoch
	ready    int   // keys with a route of this run
	gotFrame bool
	pushes   *stats.AtomicHistogram
}

func newDNSAgent(r *dnsRun, slots []int32, shard *stats.AtomicHistogram) *dnsAgent {
	a := &dnsAgent{run: r, slots: slots, seen: make([]int32, len(slots)), pushes: shard}
	for i := range a.seen {
		a.seen[i] = seenNothing
	}
	return a
}

// appendPulls appends one GetRouteRequest frame per key to dst.
func (a *dnsAgent) appendPulls(dst []byte) []byte {
	var req larspb.GetRouteRequest
	for _, s := range a.slots {
		k := a.run.subs.keys[s]
		req.Modid, req.Cmdid = k.Modid, k.Cmdid
		dst, _ = codec.AppendFrame(dst, codec.MsgGetRouteRequest, &req) // a few bytes: never too large
	}
	return dst
}

// readLoop reads frames until the connection ends, then counts why it ended.
func (a *dnsAgent) readLoop() {
	defer a.run.readers.Done()
	for {
		id, body, err := a.sr.Next()
		if err != nil {
			a.ended()
			return
		}
		a.handle(id, body, a.run.now())
	}
}

// handle takes one frame received at now (ns since the epoch): a pull's answer, or a
// push, matched to its change. It does not allocate once the agent has decoded a
// route of as many hosts.
func (a *dnsAgent) handle(id codec.MsgID, body []byte, now int64) {
	r := a.run
	a.gotFrame = true
	if id != codec.MsgGetRouteResponse {
		r.malformed.Add(1)
		return
	}
	a.resp.ResetVT()
	if a.resp.UnmarshalVT(body) != nil {
		r.malformed.Add(1)
		return
	}
	pos := -1
	slot, ok := r.subs.slotOf[route.PackKey(a.resp.Modid, a.resp.Cmdid)]
	if ok {
		pos = findSlot(a.slots, slot)
	}
	if pos < 0 {
		r.unexpected.Add(1)
		return
	}
	seen := a.seen[pos]
	if seen == seenNothing { // the first frame of a key answers its pull
		r.pullLatency.Add(now - a.pullAt)
		r.pullsAnswered.Add(1)
		seen = seenOther
		a.seen[pos] = seenOther
	}
	n, ok := decodeChange(a.resp.Host, r.tag, r.cfg.HostsPerKey)
	switch {
	case !ok:
		if seen >= 0 { // this run's routes were there: a foreign route now is wrong
			r.unexpected.Add(1)
		}
		return
	case n == seen:
		r.duplicates.Add(1)
		return
	case n < seen:
		r.stale.Add(1)
		return
	case int(n) >= len(r.changes):
		r.unexpected.Add(1)
		return
	}
	if n > 0 {
		rec := &r.changes[n]
		if rec.slotPlus1.Load() != slot+1 {
			r.unexpected.Add(1)
			return
		}
		commit := rec.commitAt.Load()
		lat := now - commit
		if commit == 0 || lat < 0 {
			r.early.Add(1)
			lat = 0
		}
		a.pushes.Add(lat)
		rec.received.Add(1)
		storeMin(&rec.firstAt, now)
		storeMax(&rec.lastAt, now)
	}
	a.seen[pos] = n
	if seen < 0 {
		if a.ready++; a.ready == len(a.slots) {
			r.readyAgents.Add(1)
		}
	}
}

// ended counts a connection the service ended (not the run): refused when it ended
// before any frame (a service over its connection limit closes at once), closed
// otherwise. Each change this agent was counted for and did not get is lost with it.
func (a *dnsAgent) ended() {
	a.nc.Close()
	r := a.run
	if r.stopping.Load() {
		return
	}
	if a.gotFrame {
		r.closedByService.Add(1)
	} else {
		r.refused.Add(1)
	}
	r.unsubscribe(a)
}
