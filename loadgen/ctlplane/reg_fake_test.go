package ctlplane

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// fakeLeaseService is a route service that takes registrations, on an in-memory
// network for runs inside a synctest bubble: it answers Hellos with features, pulls
// with the key's hosts (subscribing the connection), and each Lease frame at once with
// status's answer per entry (nil: LEASE_OK); a change to a key's hosts is pushed delay
// later, and a lease past its end is removed by a loop every tick.
type fakeLeaseService struct {
	features uint32
	delay    time.Duration
	tick     time.Duration
	status   func(e *larspb.LeaseEntry) larspb.LeaseStatus
	// ignoreKeep, when set, answers LEASE_KEEP without extending the lease.
	ignoreKeep bool

	mu     sync.Mutex
	leases map[route.Key]map[route.Host]time.Time // each host's lease end
	subs   map[*pipeConn]map[route.Key]bool
	frames int // Lease frames taken
	// readers are the connections' readers; pending the pushes not yet made.
	readers sync.WaitGroup
	pending sync.WaitGroup
	quit    chan struct{}
	done    chan struct{}
}

func newFakeLeaseService(delay, tick time.Duration) *fakeLeaseService {
	s := &fakeLeaseService{features: uint32(larspb.Feature_FEATURE_UNSUBSCRIBE | larspb.Feature_FEATURE_REGISTER),
		delay: delay, tick: tick, leases: map[route.Key]map[route.Host]time.Time{}, subs: map[*pipeConn]map[route.Key]bool{},
		quit: make(chan struct{}), done: make(chan struct{})}
	go s.expireLoop()
	return s
}

// close waits for the connections' ends (the run closed them), stops the expiry loop
// and waits for the pushes still to come.
func (s *fakeLeaseService) close() {
	s.readers.Wait()
	close(s.quit)
	<-s.done
	s.pending.Wait()
}

func (s *fakeLeaseService) dial(context.Context, string, string) (net.Conn, error) {
	client, svc := net.Pipe()
	c := &pipeConn{nc: svc, out: make(chan []byte, 1024), done: make(chan struct{})}
	s.mu.Lock()
	s.subs[c] = map[route.Key]bool{}
	s.mu.Unlock()
	s.readers.Add(1)
	go s.read(c)
	go c.write()
	return client, nil
}

func (s *fakeLeaseService) read(c *pipeConn) {
	defer s.readers.Done()
	defer func() {
		s.mu.Lock()
		delete(s.subs, c)
		s.mu.Unlock()
		c.nc.Close()
		close(c.done)
	}()
	sr := codec.NewStreamReader(c.nc, 0)
	for {
		id, body, err := sr.Next()
		if err != nil {
			return
		}
		switch id {
		case codec.MsgHello:
			f, _ := codec.AppendFrame(nil, codec.MsgHelloReply, &larspb.HelloReply{Features: s.features})
			c.send(f)
		case codec.MsgGetRouteRequest:
			var req larspb.GetRouteRequest
			if req.UnmarshalVT(body) != nil {
				return
			}
			k := route.Key{Modid: req.Modid, Cmdid: req.Cmdid}
			s.mu.Lock()
			s.subs[c][k] = true
			c.send(s.routeLocked(k))
			s.mu.Unlock()
		case codec.MsgLease:
			var l larspb.Lease
			if l.UnmarshalVT(body) != nil {
				return
			}
			s.lease(c, &l)
		default:
			return
		}
	}
}

// lease applies one Lease frame and answers it.
func (s *fakeLeaseService) lease(c *pipeConn, l *larspb.Lease) {
	now := time.Now()
	var reply larspb.LeaseReply
	changed := map[route.Key]bool{}
	s.mu.Lock()
	s.frames++
	for _, e := range l.Entries {
		st := larspb.LeaseStatus_LEASE_OK
		if s.status != nil {
			st = s.status(e)
		}
		reply.Results = append(reply.Results, &larspb.LeaseResult{Modid: e.Modid, Cmdid: e.Cmdid, Host: e.Host, Op: e.Op, Status: st})
		if st != larspb.LeaseStatus_LEASE_OK {
			continue
		}
		k, h := route.Key{Modid: e.Modid, Cmdid: e.Cmdid}, route.FromWire(e.Host.Ip, e.Host.Port)
		hosts := s.leases[k]
		if hosts == nil {
			hosts = map[route.Host]time.Time{}
			s.leases[k] = hosts
		}
		_, had := hosts[h]
		switch {
		case e.Op == larspb.LeaseOp_LEASE_DROP:
			if had {
				delete(hosts, h)
				changed[k] = true
			}
		case e.Op == larspb.LeaseOp_LEASE_KEEP && had && s.ignoreKeep:
		default:
			hosts[h] = now.Add(time.Duration(e.TtlMs) * time.Millisecond)
			changed[k] = !had || changed[k]
		}
	}
	f, _ := codec.AppendFrame(nil, codec.MsgLeaseReply, &reply)
	c.send(f)
	s.mu.Unlock()
	s.pushLater(changed)
}

// expireLoop removes the leases past their end every tick.
func (s *fakeLeaseService) expireLoop() {
	defer close(s.done)
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case now := <-t.C:
			changed := map[route.Key]bool{}
			s.mu.Lock()
			for k, hosts := range s.leases {
				for h, end := range hosts {
					if !end.After(now) {
						delete(hosts, h)
						changed[k] = true
					}
				}
			}
			s.mu.Unlock()
			s.pushLater(changed)
		}
	}
}

// pushLater pushes each changed key's hosts to its subscribers delay from now.
func (s *fakeLeaseService) pushLater(changed map[route.Key]bool) {
	for k, ch := range changed {
		if !ch {
			continue
		}
		s.pending.Add(1)
		time.AfterFunc(s.delay, func() {
			defer s.pending.Done()
			s.mu.Lock()
			defer s.mu.Unlock()
			f := s.routeLocked(k)
			for c, keys := range s.subs {
				if keys[k] {
					c.send(f)
				}
			}
		})
	}
}

// routeLocked returns the route frame of k: its hosts now.
func (s *fakeLeaseService) routeLocked(k route.Key) []byte {
	resp := larspb.GetRouteResponse{Modid: k.Modid, Cmdid: k.Cmdid}
	for h := range s.leases[k] {
		resp.Host = append(resp.Host, wireInfo(h))
	}
	f, _ := codec.AppendFrame(nil, codec.MsgGetRouteResponse, &resp)
	return f
}

// registered returns how many hosts the service holds.
func (s *fakeLeaseService) registered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, hosts := range s.leases {
		n += len(hosts)
	}
	return n
}
