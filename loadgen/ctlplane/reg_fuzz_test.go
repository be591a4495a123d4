package ctlplane

import (
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/loadgen"
)

// newBareRegRun returns a run of 3 agents x 2 instances over keys 1x1-3, its storm
// written (no network), with one subscriber and one agent to hand frames to.
func newBareRegRun(t testing.TB) (*regRun, *regSubscriber, *regAgent) {
	cfg, err := RegisterConfig{Target: "fake:1", Agents: 3, Instances: 2, Cmdids: loadgen.Range{Lo: 1, Hi: 3}, Subscribers: 1}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := newKeySpace(cfg.Modids, cfg.Cmdids)
	slots := cfg.slotsPerAgent()
	ids := regIDs{tag: 2000, slots: slots, n: cfg.Agents * slots}
	r := &regRun{cfg: cfg, keys: ks, ids: ids, inst: make([]regInstance, ids.n), subscribersReady: 1}
	s := newRegSubscriber(r, nil)
	a := &regAgent{run: r, id: 0}
	a.closed.Store(true) // no connection: frames are recorded, not sent
	for range cfg.Instances {
		g := int32(a.nextSlot)
		a.nextSlot++
		r.inst[g].key = g % int32(ks.n)
		a.kept = append(a.kept, g)
	}
	a.write(a.kept, nil, larspb.LeaseOp_LEASE_NEW) // closed: recorded, not sent
	return r, s, a
}

// Any frame a subscriber or an agent reads is taken or counted, never a crash; the
// seeds are a route with the run's instances and another run's, a LeaseReply that
// answers the storm, one unasked, and bodies that do not parse.
func FuzzRegFrames(f *testing.F) {
	r, _, _ := newBareRegRun(f)
	h0, h1 := r.ids.host(0), r.ids.host(1)
	route, _ := (&larspb.GetRouteResponse{Modid: 1, Cmdid: 1, Host: []*larspb.HostInfo{wireInfo(h0), wireInfo(h1), {Ip: 5, Port: 5}}}).MarshalVT()
	reply, _ := (&larspb.LeaseReply{Results: []*larspb.LeaseResult{{Modid: 1, Cmdid: 1, Host: wireInfo(h0), Op: larspb.LeaseOp_LEASE_NEW},
		{Modid: 1, Cmdid: 2, Host: wireInfo(h1), Op: larspb.LeaseOp_LEASE_NEW, Status: larspb.LeaseStatus_LEASE_DENIED}}}).MarshalVT()
	removed, _ := (&larspb.LeaseReply{Results: []*larspb.LeaseResult{{Host: wireInfo(h1), Status: larspb.LeaseStatus_LEASE_REMOVED}}}).MarshalVT()
	f.Add(int32(codec.MsgGetRouteResponse), route)
	f.Add(int32(codec.MsgLeaseReply), reply)
	f.Add(int32(codec.MsgLeaseReply), removed)
	f.Add(int32(codec.MsgLeaseReply), []byte{0x0a, 0xff})
	f.Add(int32(codec.MsgGetRouteResponse), []byte{0xff})
	f.Add(int32(99), []byte{})
	f.Fuzz(func(t *testing.T, id int32, body []byte) {
		r, s, a := newBareRegRun(t)
		s.handle(codec.MsgID(id), body, 5)
		s.handle(codec.MsgID(id), body, 6)
		if codec.MsgID(id) == codec.MsgLeaseReply {
			a.takeReply(body, 7)
		}
		// Every instance of the run that appeared did so once at the subscriber.
		for g := range r.inst {
			if up := r.inst[g].up.Load(); up > 1 {
				t.Fatalf("instance %d appeared %d times", g, up)
			}
		}
		var counted uint64
		for op := range r.results {
			for st := range r.results[op] {
				counted += r.results[op][st].Load()
			}
		}
		if counted > 2 || r.stormAnswered.Load() > 2 {
			t.Fatalf("%d results counted, %d storm answers, for one reply to a frame of 2", counted, r.stormAnswered.Load())
		}
	})
}

// The seeds' outcomes: the route's two instances appear, another run's host is not
// one; the reply answers the storm frame (one accepted, one denied and let go); the
// unasked LEASE_REMOVED is counted and its instance no longer renewed.
func TestRegFramesSeeds(t *testing.T) {
	r, s, a := newBareRegRun(t)
	h0, h1 := r.ids.host(0), r.ids.host(1)
	route, _ := (&larspb.GetRouteResponse{Modid: 1, Cmdid: 1, Host: []*larspb.HostInfo{wireInfo(h0), {Ip: 5, Port: 5}}}).MarshalVT()
	s.handle(codec.MsgGetRouteResponse, route, 5)
	if r.inst[0].up.Load() != 1 || r.unexpected.Load() != 0 {
		t.Errorf("instance 0 seen %d times, %d unexpected", r.inst[0].up.Load(), r.unexpected.Load())
	}
	reply, _ := (&larspb.LeaseReply{Results: []*larspb.LeaseResult{{Modid: 1, Cmdid: 1, Host: wireInfo(h0), Op: larspb.LeaseOp_LEASE_NEW},
		{Modid: 1, Cmdid: 2, Host: wireInfo(h1), Op: larspb.LeaseOp_LEASE_NEW, Status: larspb.LeaseStatus_LEASE_DENIED}}}).MarshalVT()
	a.takeReply(reply, 6)
	if r.stormAccepted.Load() != 1 || r.stormAnswered.Load() != 2 || !r.inst[1].refused.Load() || a.unanswered() != 0 {
		t.Errorf("accepted %d, answered %d, instance 1 refused %v, %d frames waiting", r.stormAccepted.Load(), r.stormAnswered.Load(), r.inst[1].refused.Load(), a.unanswered())
	}
	removed, _ := (&larspb.LeaseReply{Results: []*larspb.LeaseResult{{Host: wireInfo(h0), Status: larspb.LeaseStatus_LEASE_REMOVED}}}).MarshalVT()
	a.takeReply(removed, 7)
	a.renew()
	if r.unaskedRemoved.Load() != 1 || len(a.kept) != 0 {
		t.Errorf("unasked removals %d, kept %v: want 1 and none (both let go)", r.unaskedRemoved.Load(), a.kept)
	}
}
