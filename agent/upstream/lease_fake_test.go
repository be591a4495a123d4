package upstream

import (
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// leaseService is a scripted route service for registration: it answers Hellos with
// the features it is given (or not at all, as Lars's lars_dns), answers pulls with an
// empty route, records every Lease entry and answers each Lease frame with one result
// per entry, of the status status gives. It can also send an unasked LeaseReply.
type leaseService struct {
	t           *testing.T
	ln          net.Listener
	answerHello bool
	features    uint32

	mu       sync.Mutex
	status   func(e *larspb.LeaseEntry) larspb.LeaseStatus
	hellos   []uint32 // features of every Hello
	frames   []int    // entries per Lease frame
	entries  []LeaseEntry
	accepted int
	conns    []net.Conn
	wg       sync.WaitGroup
}

// newLeaseService starts a leaseService on loopback, closed when the test ends.
func newLeaseService(t *testing.T, answerHello bool, features uint32) *leaseService {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &leaseService{t: t, ln: ln, answerHello: answerHello, features: features}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

func (s *leaseService) addr() string { return s.ln.Addr().String() }

// close stops listening and closes every connection.
func (s *leaseService) close() {
	s.ln.Close()
	s.closeConns()
	s.wg.Wait()
}

func (s *leaseService) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func (s *leaseService) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.accepted++
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *leaseService) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	sr := codec.NewStreamReader(c, 0)
	for {
		id, body, err := sr.Next()
		if err != nil {
			return
		}
		var out []byte
		switch id {
		case codec.MsgHello:
			var h larspb.Hello
			if err := h.UnmarshalVT(body); err != nil {
				s.t.Errorf("hello does not decode: %v", err)
			}
			s.mu.Lock()
			s.hellos = append(s.hellos, h.Features)
			s.mu.Unlock()
			if s.answerHello {
				out, _ = codec.AppendFrame(nil, codec.MsgHelloReply, &larspb.HelloReply{Features: s.features})
			}
		case codec.MsgGetRouteRequest:
			var req larspb.GetRouteRequest
			if req.UnmarshalVT(body) == nil {
				out, _ = codec.AppendFrame(nil, codec.MsgGetRouteResponse,
					&larspb.GetRouteResponse{Modid: req.Modid, Cmdid: req.Cmdid})
			}
		case codec.MsgLease:
			out = s.lease(body)
		}
		if out != nil {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}
}

// lease records a Lease frame and returns its LeaseReply frame.
func (s *leaseService) lease(body []byte) []byte {
	var l larspb.Lease
	if err := l.UnmarshalVT(body); err != nil {
		s.t.Errorf("lease frame does not decode: %v", err)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frames = append(s.frames, len(l.Entries))
	var reply larspb.LeaseReply
	for _, e := range l.Entries {
		s.entries = append(s.entries, LeaseEntry{Key: route.Key{Modid: e.Modid, Cmdid: e.Cmdid},
			Host: route.AddrPortFromWire(e.Host.Ip, e.Host.Port), TTL: time.Duration(e.TtlMs) * time.Millisecond, Op: e.Op})
		st := larspb.LeaseStatus_LEASE_OK
		if s.status != nil {
			st = s.status(e)
		}
		reply.Results = append(reply.Results, &larspb.LeaseResult{Modid: e.Modid, Cmdid: e.Cmdid, Host: e.Host, Op: e.Op, Status: st})
	}
	out, _ := codec.AppendFrame(nil, codec.MsgLeaseReply, &reply)
	return out
}

// push writes frame to every connection open: an unasked LeaseReply, or anything.
func (s *leaseService) push(frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		if _, err := c.Write(frame); err != nil {
			s.t.Errorf("push: %v", err)
		}
	}
}

func (s *leaseService) leaseEntries() []LeaseEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.entries)
}

func (s *leaseService) leaseFrames() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.frames)
}

func (s *leaseService) helloFeatures() []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hellos)
}

func (s *leaseService) acceptedConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// linkEvent is one LeaseLink call.
type linkEvent struct {
	addr  string
	state LinkState
}

// fakeRegistrations records what the route client tells the registration table.
type fakeRegistrations struct {
	mu      sync.Mutex
	links   []linkEvent
	results []LeaseResult
	onLink  func(addr string, state LinkState) // called after recording, if set
}

func (f *fakeRegistrations) LeaseLink(addr string, state LinkState) {
	f.mu.Lock()
	f.links = append(f.links, linkEvent{addr, state})
	on := f.onLink
	f.mu.Unlock()
	if on != nil {
		on(addr, state)
	}
}

func (f *fakeRegistrations) LeaseResults(results []LeaseResult) {
	f.mu.Lock()
	f.results = append(f.results, results...)
	f.mu.Unlock()
}

func (f *fakeRegistrations) linkEvents() []linkEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.links)
}

func (f *fakeRegistrations) leaseResults() []LeaseResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.results)
}

// lastLink returns the last LeaseLink call, if any.
func (f *fakeRegistrations) lastLink() (linkEvent, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.links) == 0 {
		return linkEvent{}, false
	}
	return f.links[len(f.links)-1], true
}

// hasLink returns a condition: the last LeaseLink call was (addr, state).
func (f *fakeRegistrations) hasLink(addr string, state LinkState) func() bool {
	return func() bool {
		e, ok := f.lastLink()
		return ok && e == linkEvent{addr, state}
	}
}

// newLeaseClient returns a route client with registration table reg for addrs, and
// its table.
func newLeaseClient(reg Registrations, helloWait time.Duration, addrs ...string) (*RouteClient, *lb.Table) {
	tbl := lb.NewTable(lb.Config{Clock: newFakeClock().Now, NegativeTTL: time.Second})
	c := NewRouteClient(RouteClientConfig{Addrs: addrs, Table: tbl, Registrations: reg, HelloWait: helloWait,
		Link: Link{Logger: quiet, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}})
	return c, tbl
}
