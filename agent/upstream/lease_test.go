package upstream

import (
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/route"
)

const featureRegister = uint32(larspb.Feature_FEATURE_REGISTER)

var regKey = route.Key{Modid: 7, Cmdid: 1}

func entry(h route.Host, op larspb.LeaseOp) LeaseEntry {
	return LeaseEntry{Key: regKey, Host: h.Addr, TTL: 10 * time.Second, Op: op}
}

// TestLeaseAfterFeatureRegister: against a service whose HelloReply has
// FEATURE_REGISTER, the table is told so, the client's Hello announces the feature,
// a Lease goes out as one frame and its results come back to the table in order.
func TestLeaseAfterFeatureRegister(t *testing.T) {
	svc := newLeaseService(t, true, featureRegister|uint32(larspb.Feature_FEATURE_UNSUBSCRIBE))
	svc.status = func(e *larspb.LeaseEntry) larspb.LeaseStatus {
		if e.Host.Port == int32(h2.Addr.Port()) {
			return larspb.LeaseStatus_LEASE_STATIC
		}
		return larspb.LeaseStatus_LEASE_OK
	}
	reg := &fakeRegistrations{}
	c, _ := newLeaseClient(reg, wait, svc.addr())
	run(t, c.Run)
	eventually(t, "told the link registers", reg.hasLink(svc.addr(), LinkRegisters))
	if f := svc.helloFeatures(); len(f) == 0 || f[0]&featureRegister == 0 {
		t.Fatalf("hello features %v, want FEATURE_REGISTER announced", f)
	}
	sent := []LeaseEntry{entry(h1, larspb.LeaseOp_LEASE_NEW), entry(h2, larspb.LeaseOp_LEASE_KEEP)}
	if !c.Lease(slices.Clone(sent)) {
		t.Fatal("Lease refused with an empty queue")
	}
	eventually(t, "results handed over", func() bool { return len(reg.leaseResults()) == 2 })
	if got := svc.leaseEntries(); !slices.Equal(got, sent) {
		t.Fatalf("service got %v, want %v", got, sent)
	}
	res := reg.leaseResults()
	if res[0].Host != h1.Addr || res[0].Status != larspb.LeaseStatus_LEASE_OK || res[0].Op != larspb.LeaseOp_LEASE_NEW ||
		res[1].Host != h2.Addr || res[1].Status != larspb.LeaseStatus_LEASE_STATIC {
		t.Fatalf("results %+v", res)
	}
	st := c.Stats()
	if st.LeaseFrames != 1 || st.LeaseSent[larspb.LeaseOp_LEASE_NEW] != 1 || st.LeaseSent[larspb.LeaseOp_LEASE_KEEP] != 1 ||
		st.LeaseReplies != 1 || st.LeaseResults[larspb.LeaseStatus_LEASE_OK] != 1 || st.LeaseResults[larspb.LeaseStatus_LEASE_STATIC] != 1 {
		t.Fatalf("stats %+v", st.LeaseStats)
	}
}

// TestLeaseFramesBounded: 2,500 entries go out in frames of at most 1,024.
func TestLeaseFramesBounded(t *testing.T) {
	svc := newLeaseService(t, true, featureRegister)
	reg := &fakeRegistrations{}
	c, _ := newLeaseClient(reg, wait, svc.addr())
	run(t, c.Run)
	eventually(t, "told the link registers", reg.hasLink(svc.addr(), LinkRegisters))
	var many []LeaseEntry
	for i := range 2500 {
		many = append(many, entry(route.FromWire(10<<24|int32(i+1), 9000), larspb.LeaseOp_LEASE_KEEP))
	}
	c.Lease(many)
	eventually(t, "every result", func() bool { return len(reg.leaseResults()) == 2500 })
	if f := svc.leaseFrames(); !slices.Equal(f, []int{1024, 1024, 452}) {
		t.Fatalf("entries per frame %v, want [1024 1024 452]", f)
	}
}

// TestLeaseRefusedWithoutFeature: a service of ours whose HelloReply lacks
// FEATURE_REGISTER is reported as not taking registrations, and what is queued anyway
// is not written, but counted.
func TestLeaseRefusedWithoutFeature(t *testing.T) {
	svc := newLeaseService(t, true, uint32(larspb.Feature_FEATURE_UNSUBSCRIBE))
	reg := &fakeRegistrations{}
	c, _ := newLeaseClient(reg, wait, svc.addr())
	run(t, c.Run)
	eventually(t, "told the link does not register", reg.hasLink(svc.addr(), LinkNoRegister))
	c.Lease([]LeaseEntry{entry(h1, larspb.LeaseOp_LEASE_NEW)})
	eventually(t, "entry counted unsent", func() bool { return c.Stats().LeaseUnsent == 1 })
	if f := svc.leaseFrames(); len(f) != 0 {
		t.Fatalf("Lease frames %v written to a service without FEATURE_REGISTER", f)
	}
}

// TestLeaseRefusedByLarsPeer: a peer that never answers the Hello (Lars's lars_dns)
// is reported as not taking registrations after HelloWait, or as soon as it answers
// a pull without having answered the Hello; no Lease frame reaches it.
func TestLeaseRefusedByLarsPeer(t *testing.T) {
	t.Run("silent", func(t *testing.T) {
		svc := newLeaseService(t, false, 0)
		reg := &fakeRegistrations{}
		c, _ := newLeaseClient(reg, 20*time.Millisecond, svc.addr())
		run(t, c.Run)
		eventually(t, "told the link does not register", reg.hasLink(svc.addr(), LinkNoRegister))
		c.Lease([]LeaseEntry{entry(h1, larspb.LeaseOp_LEASE_NEW)})
		eventually(t, "entry counted unsent", func() bool { return c.Stats().LeaseUnsent == 1 })
		if c.Stats().Peer != PeerUnknown {
			t.Fatalf("peer %s, want still unknown (nothing answered)", c.Stats().Peer)
		}
	})
	t.Run("answers a pull", func(t *testing.T) {
		svc := newLeaseService(t, false, 0)
		reg := &fakeRegistrations{}
		c, tbl := newLeaseClient(reg, wait, svc.addr()) // HelloWait far away: the pull's answer decides
		run(t, c.Run)
		tbl.GetHost(1, 1) // a pull, answered without a HelloReply before it
		eventually(t, "told the link does not register", reg.hasLink(svc.addr(), LinkNoRegister))
		if c.Stats().Peer != PeerLars {
			t.Fatalf("peer %s, want lars", c.Stats().Peer)
		}
		if f := svc.leaseFrames(); len(f) != 0 {
			t.Fatalf("Lease frames %v written to Lars", f)
		}
	})
}

// TestLeaseFailover: when the connection is lost the table is told (LinkDown), and the
// client moves to the second address, where the table is told again that the link
// registers, so that it sends everything again there.
func TestLeaseFailover(t *testing.T) {
	a := newLeaseService(t, true, featureRegister)
	b := newLeaseService(t, true, featureRegister)
	reg := &fakeRegistrations{}
	var c *RouteClient
	reg.onLink = func(addr string, state LinkState) { // the table re-registers on each link
		if state == LinkRegisters {
			c.Lease([]LeaseEntry{entry(h1, larspb.LeaseOp_LEASE_KEEP)})
		}
	}
	c, _ = newLeaseClient(reg, wait, a.addr(), b.addr())
	run(t, c.Run)
	eventually(t, "registered at a", func() bool { return len(a.leaseEntries()) == 1 })
	a.close() // a is gone: the client fails over to b
	eventually(t, "registered again at b", func() bool { return len(b.leaseEntries()) == 1 })
	links := reg.linkEvents()
	want := []linkEvent{{a.addr(), LinkRegisters}, {"", LinkDown}}
	if len(links) < 3 || !slices.Equal(links[:2], want) || links[len(links)-1] != (linkEvent{b.addr(), LinkRegisters}) {
		t.Fatalf("link events %v, want %v, then (possibly failed dials) %s registers", links, want, b.addr())
	}
	if got := b.leaseEntries()[0]; got != entry(h1, larspb.LeaseOp_LEASE_KEEP) {
		t.Fatalf("b got %+v", got)
	}
}

// TestLeaseReconnect: the same service's connection closed and made again is a new
// link that registers: the table is told twice.
func TestLeaseReconnect(t *testing.T) {
	svc := newLeaseService(t, true, featureRegister)
	reg := &fakeRegistrations{}
	c, _ := newLeaseClient(reg, wait, svc.addr())
	run(t, c.Run)
	eventually(t, "told the link registers", reg.hasLink(svc.addr(), LinkRegisters))
	svc.closeConns()
	eventually(t, "second connection", func() bool { return svc.acceptedConns() == 2 })
	eventually(t, "told again", func() bool {
		n := 0
		for _, e := range reg.linkEvents() {
			if e.state == LinkRegisters {
				n++
			}
		}
		return n == 2
	})
}

// TestLeaseUnaskedRemoved: an unasked LeaseReply (an operator removed an instance)
// reaches the table; one that does not decode is dropped and counted, and the
// connection stays.
func TestLeaseUnaskedRemoved(t *testing.T) {
	svc := newLeaseService(t, true, featureRegister)
	reg := &fakeRegistrations{}
	c, _ := newLeaseClient(reg, wait, svc.addr())
	run(t, c.Run)
	eventually(t, "told the link registers", reg.hasLink(svc.addr(), LinkRegisters))
	bad := codec.AppendHeader(nil, codec.MsgLeaseReply, 1)
	bad = append(bad, 0xff)
	svc.push(bad)
	eventually(t, "bad reply counted", func() bool { return c.Stats().BadFrames == 1 })
	removed, _ := codec.AppendFrame(nil, codec.MsgLeaseReply, &larspb.LeaseReply{Results: []*larspb.LeaseResult{{
		Modid: regKey.Modid, Cmdid: regKey.Cmdid, Host: larstest.HostInfo(h3),
		Status: larspb.LeaseStatus_LEASE_REMOVED, Message: "removed by an operator"}}})
	svc.push(removed)
	eventually(t, "removal handed over", func() bool { return len(reg.leaseResults()) == 1 })
	r := reg.leaseResults()[0]
	if r.Key != regKey || r.Host != h3.Addr || r.Status != larspb.LeaseStatus_LEASE_REMOVED || r.Message != "removed by an operator" {
		t.Fatalf("result %+v", r)
	}
	if st := c.Stats(); st.Disconnects != 0 {
		t.Fatalf("%d disconnects, want the connection kept", st.Disconnects)
	}
}

// TestLeaseLateHelloReply: a service of ours that answers the Hello after HelloWait
// is first reported as not taking registrations, then as taking them.
func TestLeaseLateHelloReply(t *testing.T) {
	svc := newLeaseService(t, false, 0) // silent until told to answer
	reg := &fakeRegistrations{}
	c, _ := newLeaseClient(reg, 10*time.Millisecond, svc.addr())
	run(t, c.Run)
	eventually(t, "told the link does not register", reg.hasLink(svc.addr(), LinkNoRegister))
	late, _ := codec.AppendFrame(nil, codec.MsgHelloReply, &larspb.HelloReply{Features: featureRegister})
	svc.push(late)
	eventually(t, "told the link registers", reg.hasLink(svc.addr(), LinkRegisters))
	c.Lease([]LeaseEntry{entry(h1, larspb.LeaseOp_LEASE_KEEP)})
	eventually(t, "lease written", func() bool { return len(svc.leaseEntries()) == 1 })
}
