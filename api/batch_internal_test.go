//go:build linux

package api

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
)

// TestAnswersQueuedTogetherAreReadTogether holds the answers of 16 GetHost callers and
// of one GetRoute caller whose answer is a large frame, then sends them all at once in
// reverse order: whoever reads the port takes several per read, and every caller gets
// its own answer, the large one whole.
func TestAnswersQueuedTogetherAreReadTogether(t *testing.T) {
	agent, c := newHandAgent(t, patience)
	agent.SetReadBuffer(1 << 20)

	const callers, routeHosts = 16, 3000
	var wg sync.WaitGroup
	errs := make(chan error, callers+1)
	for i := range int32(callers) {
		wg.Go(func() {
			h, err := c.GetHost(context.Background(), 7, i)
			if err == nil && int32(h.Addr.Port()) != 1000+i {
				err = fmt.Errorf("GetHost(7, %d) = %v: an answer for another caller", i, h)
			}
			errs <- err
		})
	}
	var route []Host
	wg.Go(func() {
		var err error
		route, err = c.GetRoute(context.Background(), 8, 1, nil)
		errs <- err
	})

	// Read every request before answering any.
	type request struct {
		id   codec.MsgID
		body []byte
		from *net.UDPAddr
	}
	var reqs []request
	buf := make([]byte, codec.MaxFrameSize+1)
	agent.SetReadDeadline(time.Now().Add(patience))
	for len(reqs) < callers+1 {
		n, from, err := agent.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("after %d requests: %v", len(reqs), err)
		}
		id, body, reason := codec.ParseDatagram(buf[:n])
		if reason != codec.ReasonOK {
			t.Fatalf("request %d malformed: %v", len(reqs), reason)
		}
		reqs = append(reqs, request{id, slices.Clone(body), from})
	}
	var answers [][]byte
	for _, r := range reqs {
		var frame []byte
		var err error
		switch r.id {
		case codec.MsgGetHostRequest:
			var q pb.GetHostRequest
			if err := q.UnmarshalVT(r.body); err != nil {
				t.Fatal(err)
			}
			frame, err = codec.AppendFrame(nil, codec.MsgGetHostResponse, &pb.GetHostResponse{Seq: q.Seq,
				Modid: q.Modid, Cmdid: q.Cmdid, Host: &pb.HostInfo{Ip: 1, Port: 1000 + q.Cmdid}})
		case codec.MsgAPIGetRouteRequest:
			m := &pb.GetRouteResponse{Modid: 8, Cmdid: 1}
			for k := range int32(routeHosts) {
				m.Host = append(m.Host, &pb.HostInfo{Ip: 10<<24 | k, Port: 2000 + k})
			}
			frame, err = codec.AppendFrame(nil, codec.MsgAPIGetRouteResponse, m)
		default:
			t.Fatalf("unexpected request %v", r.id)
		}
		if err != nil {
			t.Fatal(err)
		}
		answers = append(answers, frame)
	}
	// The route answer goes in the middle, so that it is not the first of a read.
	slices.Reverse(answers)
	mid := len(answers) / 2
	for i, a := range answers {
		if len(a) > 1000 && i != mid {
			answers[i], answers[mid] = answers[mid], answers[i]
			break
		}
	}
	for _, a := range answers {
		if _, err := agent.WriteToUDP(a, reqs[0].from); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(route) != routeHosts || int(route[routeHosts-1].Addr.Port()) != 2000+routeHosts-1 {
		t.Fatalf("route of %d hosts, want %d whole", len(route), routeHosts)
	}
	if st := c.Stats(); st.Received != callers+1 || st.Malformed != 0 || st.Late != 0 {
		t.Fatalf("stats %+v: want %d received, none malformed or late", st, callers+1)
	}
	if c.lanes[0].b == nil {
		t.Fatal("the answers were read one per system call: several callers waited, want batches")
	}
}
