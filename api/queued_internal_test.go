//go:build linux

package api

import (
	"net"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// TestYieldHandsOutQueuedAnswers covers what a leader does as it gives the lead back
// while another caller still waits: an answer already queued for that caller is
// handed over at once, by the leader (not left for the reader goroutine), and with
// nothing queued the leader does not wait for one.
func TestYieldHandsOutQueuedAnswers(t *testing.T) {
	agent, c := newHandAgent(t, patience)
	ln := &c.lanes[0]
	if !ln.lead.CompareAndSwap(false, true) {
		t.Fatal("the lane is led before any call")
	}
	// A caller waiting for seq on the port, as GetHost leaves it after sending.
	i, ok := c.tryAcquire(0)
	if !ok {
		t.Fatal("no free slot")
	}
	s := &c.slots[i]
	seq := c.nextSeq(i)
	st := waitState(0, seq)
	ln.waiters.Add(1)
	s.state.Store(st)

	done := make(chan struct{})
	go func() {
		c.readQueued(0)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(patience): // readQueued does not wait: only a defect takes this long
		t.Fatal("with nothing queued, readQueued waited for a datagram")
	}
	if len(s.ch) != 0 || ln.waiters.Load() != 1 {
		t.Fatalf("with nothing queued: %d answers given, %d waiting; want none, 1", len(s.ch), ln.waiters.Load())
	}

	// Queue the answer on the client's socket, then read it back out with readQueued.
	local := ln.conn.LocalAddr().(*net.UDPAddr)
	answer, err := codec.AppendFrame(nil, codec.MsgGetHostResponse, &pb.GetHostResponse{Seq: seq, Modid: 3, Cmdid: 4,
		Host: &pb.HostInfo{Ip: 7, Port: 8}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := agent.WriteToUDP(answer, local); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(patience)
	for len(s.ch) == 0 && time.Now().Before(deadline) {
		c.readQueued(0) // the datagram may not be in the socket yet
	}
	if len(s.ch) != 1 || ln.waiters.Load() != 0 {
		t.Fatalf("queued answer: %d given, %d still waiting; want it given", len(s.ch), ln.waiters.Load())
	}
	if a := <-s.ch; a.host != route.AddrPortFromWire(7, 8) || a.modid != 3 || a.cmdid != 4 {
		t.Fatalf("answer %+v, want the one queued", a)
	}
	s.state.Store(0)
	c.yield(0)
	c.release(0, i)
	if st := c.Stats(); st.Received != 1 || st.Late != 0 || st.Malformed != 0 {
		t.Fatalf("stats %+v, want the one answer received", st)
	}
}
