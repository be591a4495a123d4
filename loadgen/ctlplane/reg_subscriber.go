package ctlplane

import (
	"net"
	"slices"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/loadgen/stats"
)

// regHists are the latencies one subscriber saw, in nanoseconds.
type regHists struct {
	stormUp, steadyUp, drop, expiry stats.AtomicHistogram
}

// regSubscriber is one connection that pulls every key of the run and diffs each
// push against the key's hosts before: an instance of the run that appears is timed
// from its LEASE_NEW, one that goes from its LEASE_DROP or its lease's end.
type regSubscriber struct {
	run  *regRun
	nc   net.Conn
	sr   *codec.StreamReader
	resp larspb.GetRouteResponse
	h    regHists
	// present[k] are the run's instances of key k in its latest route, ascending.
	present  [][]int32
	answered []bool
	ready    int
	pullAt   int64
	// seenUp marks the instances this connection has seen appear (bit per instance).
	seenUp  []uint64
	scratch []int32
}

func newRegSubscriber(r *regRun, nc net.Conn) *regSubscriber {
	return &regSubscriber{run: r, nc: nc, sr: codec.NewStreamReader(nc, agentReadBuffer),
		present: make([][]int32, r.keys.n), answered: make([]bool, r.keys.n), seenUp: make([]uint64, (r.ids.n+63)/64)}
}

// pulls returns one GetRouteRequest frame per key of the run.
func (s *regSubscriber) pulls() []byte {
	var dst []byte
	var req larspb.GetRouteRequest
	for i := range s.run.keys.n {
		k := s.run.keys.key(i)
		req.Modid, req.Cmdid = k.Modid, k.Cmdid
		dst, _ = codec.AppendFrame(dst, codec.MsgGetRouteRequest, &req)
	}
	return dst
}

// readLoop reads routes until the connection ends.
func (s *regSubscriber) readLoop() {
	r := s.run
	defer r.readers.Done()
	for {
		id, body, err := s.sr.Next()
		if err != nil {
			s.nc.Close()
			if !r.stopping.Load() {
				r.subscribersClosed.Add(1)
			}
			return
		}
		s.handle(id, body, r.now())
	}
}

// handle takes one frame received at now: a pull's answer or a push.
func (s *regSubscriber) handle(id codec.MsgID, body []byte, now int64) {
	r := s.run
	if id != codec.MsgGetRouteResponse {
		r.malformed.Add(1)
		return
	}
	s.resp.ResetVT()
	if s.resp.UnmarshalVT(body) != nil {
		r.malformed.Add(1)
		return
	}
	k, ok := r.keyIndex(s.resp.Modid, s.resp.Cmdid)
	if !ok {
		r.unexpected.Add(1)
		return
	}
	r.routeFrames.Add(1)
	if !s.answered[k] {
		s.answered[k] = true
		r.pullLatency.Add(now - s.pullAt)
		if s.ready++; s.ready == len(s.answered) {
			r.subscribersReadyN.Add(1)
		}
	}
	cur := s.scratch[:0]
	for _, h := range s.resp.Host {
		g, ok := r.ids.instance(h.Ip, h.Port)
		if ok && r.inst[g].key == int32(k) && r.inst[g].newAt.Load() != 0 {
			cur = append(cur, int32(g))
		} else if ok {
			r.unexpected.Add(1)
		}
	}
	slices.Sort(cur)
	old := s.present[k]
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(old) && old[i] < cur[j]):
			s.gone(old[i], now)
			i++
		case i == len(old) || cur[j] < old[i]:
			s.appeared(cur[j], now)
			j++
		default:
			i++
			j++
		}
	}
	s.scratch = old[:0]
	s.present[k] = cur
}

// appeared times instance g's arrival in this connection's routes.
func (s *regSubscriber) appeared(g int32, now int64) {
	r := s.run
	in := &r.inst[g]
	if s.seenUp[g/64]&(1<<(g%64)) != 0 {
		r.reappeared.Add(1)
		if in.end.Load() != endKept {
			r.reappearedEnded.Add(1)
		}
		return
	}
	s.seenUp[g/64] |= 1 << (g % 64)
	lat := now - in.newAt.Load()
	if in.phase == phaseStorm {
		s.h.stormUp.Add(max(lat, 0))
	} else {
		s.h.steadyUp.Add(max(lat, 0))
	}
	in.up.Add(1)
	storeMax(&in.upLast, now)
}

// gone times instance g's departure from this connection's routes.
func (s *regSubscriber) gone(g int32, now int64) {
	r := s.run
	in := &r.inst[g]
	end := in.end.Load()
	lat := now - in.endAt.Load()
	switch end {
	case endKept:
		r.removedWhileKept.Add(1)
		return
	case endDropped:
		s.h.drop.Add(max(lat, 0))
	case endExpired:
		if lat < 0 {
			r.expiredEarly.Add(1)
			storeMax(&r.earliestNs, -lat)
		}
		s.h.expiry.Add(max(lat, 0))
	}
	in.down.Add(1)
	storeMax(&in.downLast, now)
}
