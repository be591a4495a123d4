package ctlplane

import (
	"context"
	"net"
	"sync"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// pipeRouteService is a route service on an in-memory network, for runs inside a
// synctest bubble: each agent's connection is a net.Pipe made by dial, so every read
// and write blocks durably and the bubble's clock moves only when all is quiet. It
// answers each GetRouteRequest with the key's route, remembers which keys each
// connection asked for, and pushes a key's new route to them when SetRoute changes it.
type pipeRouteService struct {
	// maxConns, when positive, is the most connections served at once: one beyond it
	// is closed at once, before any frame, as the route service does.
	maxConns int

	mu     sync.Mutex
	routes map[route.Key][]byte // the answer frame of each key
	conns  map[*pipeConn]map[route.Key]bool
}

// pipeConn is the service's end of one connection: a reader of requests and a writer
// of the frames queued on out, so that a push never waits for the agent to read.
type pipeConn struct {
	nc   net.Conn
	out  chan []byte
	done chan struct{} // closed when the reader has ended
}

func newPipeRouteService() *pipeRouteService {
	return &pipeRouteService{routes: map[route.Key][]byte{}, conns: map[*pipeConn]map[route.Key]bool{}}
}

// dial connects one agent: it returns the agent's end of a new pipe and serves the
// other end.
func (s *pipeRouteService) dial(context.Context, string, string) (net.Conn, error) {
	agent, svc := net.Pipe()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maxConns > 0 && len(s.conns) >= s.maxConns {
		svc.Close()
		return agent, nil
	}
	c := &pipeConn{nc: svc, out: make(chan []byte, 256), done: make(chan struct{})}
	s.conns[c] = map[route.Key]bool{}
	go s.read(c)
	go c.write()
	return agent, nil
}

// read takes the connection's requests until it ends, then forgets it.
func (s *pipeRouteService) read(c *pipeConn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.nc.Close()
		close(c.done)
	}()
	sr := codec.NewStreamReader(c.nc, 0)
	var req larspb.GetRouteRequest
	for {
		id, body, err := sr.Next()
		if err != nil || id != codec.MsgGetRouteRequest || req.UnmarshalVT(body) != nil {
			return
		}
		k := route.Key{Modid: req.Modid, Cmdid: req.Cmdid}
		s.mu.Lock()
		s.conns[c][k] = true
		c.send(s.frameLocked(k))
		s.mu.Unlock()
	}
}

// write writes the queued frames until the reader has ended.
func (c *pipeConn) write() {
	for {
		select {
		case f := <-c.out:
			if _, err := c.nc.Write(f); err != nil {
				return
			}
		case <-c.done:
			return
		}
	}
}

// send queues frame on c unless its reader has ended.
func (c *pipeConn) send(frame []byte) {
	select {
	case c.out <- frame:
	case <-c.done:
	}
}

// frameLocked returns the answer frame of k: its route, or none.
func (s *pipeRouteService) frameLocked(k route.Key) []byte {
	if f, ok := s.routes[k]; ok {
		return f
	}
	f, _ := codec.AppendFrame(nil, codec.MsgGetRouteResponse, &larspb.GetRouteResponse{Modid: k.Modid, Cmdid: k.Cmdid})
	return f
}

// SetRoute makes hosts the key's route and pushes it to every connection that asked
// for the key; it returns how many that is.
func (s *pipeRouteService) SetRoute(k route.Key, hosts []route.Host) int {
	resp := larspb.GetRouteResponse{Modid: k.Modid, Cmdid: k.Cmdid}
	for _, h := range hosts {
		resp.Host = append(resp.Host, wireInfo(h))
	}
	frame, err := codec.AppendFrame(nil, codec.MsgGetRouteResponse, &resp)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[k] = frame
	n := 0
	for c, keys := range s.conns {
		if keys[k] {
			c.send(frame) // under the lock: a push never overtakes an answer
			n++
		}
	}
	return n
}

// Subscribed returns how many open connections asked for the key.
func (s *pipeRouteService) Subscribed(k route.Key) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, keys := range s.conns {
		if keys[k] {
			n++
		}
	}
	return n
}

// CloseConns closes every connection the service holds.
func (s *pipeRouteService) CloseConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.nc.Close()
	}
}
