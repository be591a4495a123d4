//go:build !race

package ctlplane

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/alloctest"
	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/stats"
	"github.com/larsgo/lars/route"
)

// A simulated agent takes each push without allocating: decode, match to its change,
// count and time it.
func TestDNSAgentPushAlloc(t *testing.T) {
	const runs = 2000
	ks, err := newKeySpace(loadgen.Range{Lo: 1, Hi: 1}, loadgen.Range{Lo: 1, Hi: 10})
	if err != nil {
		t.Fatal(err)
	}
	subs, err := drawSubscriptions(ks, 1, 4, loadgen.Uniform, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := &dnsRun{cfg: DNSConfig{HostsPerKey: 3}, subs: subs, tag: 2000, keys: make([]keyState, len(subs.keys)),
		changes: make([]changeRec, runs+10), epoch: time.Now()}
	a := newDNSAgent(r, subs.agents[0], &r.pushLatency[0])
	// One push frame per change, change n to the agent's key n % 4, committed now.
	bodies := make([][]byte, len(r.changes))
	for n := 1; n < len(r.changes); n++ {
		slot := a.slots[n%len(a.slots)]
		k := subs.keys[slot]
		r.changes[n].slotPlus1.Store(slot + 1)
		r.changes[n].expected.Store(1)
		r.changes[n].commitAt.Store(1)
		resp := larspb.GetRouteResponse{Modid: k.Modid, Cmdid: k.Cmdid}
		for _, h := range appendChangeHosts(nil, int32(n), r.tag, 3) {
			resp.Host = append(resp.Host, wireInfo(h))
		}
		frame, err := codec.AppendFrame(nil, codec.MsgGetRouteResponse, &resp)
		if err != nil {
			t.Fatal(err)
		}
		bodies[n] = frame[codec.HeaderSize:]
	}
	n := 1
	alloctest.Zero(t, "agent push", runs, func() {
		a.handle(codec.MsgGetRouteResponse, bodies[n], r.now())
		n++
	})
	var got stats.Histogram
	r.pushLatency[0].AddTo(&got)
	if got.Count() != uint64(n-1) || r.unexpected.Load()+r.stale.Load()+r.duplicates.Load() != 0 {
		t.Fatalf("%d pushes counted of %d; %d unexpected, %d stale, %d duplicate", got.Count(), n-1,
			r.unexpected.Load(), r.stale.Load(), r.duplicates.Load())
	}
}

// A simulated agent sends each round of status reports without allocating: encode
// one frame per key and write them to its connection.
func TestReporterRoundAlloc(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	subs := &subscriptions{keys: []route.Key{{Modid: 1, Cmdid: 1}, {Modid: 1, Cmdid: 2}, {Modid: 3, Cmdid: 4}}}
	r := &repRun{cfg: ReporterConfig{Hosts: 10}, subs: subs, epoch: time.Now(), base: 1}
	s := newRepSender(r, nil)
	a := &repAgent{nc: nc, caller: DefaultCallerBase, slots: []int32{0, 1, 2}}
	alloctest.Zero(t, "report round", 2000, func() {
		now := r.now()
		s.buf = s.appendRound(s.buf[:0], a, r.base+a.round, r.unixAt(now))
		if err := s.write(a, now); err != nil {
			t.Fatal(err)
		}
		a.round++
	})
	var msg larspb.ReportStatusRequest
	_, body, ok := cutFrame(s.buf)
	if !ok || msg.UnmarshalVT(body) != nil || len(msg.Results) != 10 || msg.Results[0].Succ != a.round {
		t.Fatalf("the last round's first frame does not decode as a report of 10 results with succ %d: %+v", a.round, &msg)
	}
}

// cutFrame returns the first frame of b.
func cutFrame(b []byte) (codec.MsgID, []byte, bool) {
	if len(b) < codec.HeaderSize {
		return 0, nil, false
	}
	id, n := codec.ReadHeader(b)
	if int(n) > len(b)-codec.HeaderSize || n < 0 {
		return 0, nil, false
	}
	return id, b[codec.HeaderSize : codec.HeaderSize+int(n)], true
}
