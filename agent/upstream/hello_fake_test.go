package upstream

import (
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// extService is a scripted route service for the protocol extension: it records every
// frame of every connection, answers pulls with the routes it has (none by default),
// and answers Hellos with a HelloReply of its features and idle timeout if it is ours
// (Lars's lars_dns ignores them: answerHello false).
type extService struct {
	t           *testing.T
	ln          net.Listener
	answerHello bool
	features    uint32
	idleMs      uint32

	mu      sync.Mutex
	routes  map[route.Key][]route.Host
	raw     map[route.Key][]*larspb.HostInfo // answered as they are, after routes' hosts
	hellos  []uint32                         // the features of every Hello, in order
	frames  [][]codec.MsgID                  // per connection, in order of arrival
	unsubs  []route.Key                      // every key unsubscribed, in order
	unsubNs []int                            // keys per Unsubscribe frame
	conns   []net.Conn
	wg      sync.WaitGroup
}

// newExtService starts an extService on loopback; it is closed when the test ends.
func newExtService(t *testing.T, answerHello bool, features, idleMs uint32) *extService {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &extService{t: t, ln: ln, answerHello: answerHello, features: features, idleMs: idleMs,
		routes: map[route.Key][]route.Host{}, raw: map[route.Key][]*larspb.HostInfo{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *extService) addr() string { return s.ln.Addr().String() }

func (s *extService) setRoute(k route.Key, hosts ...route.Host) {
	s.mu.Lock()
	s.routes[k] = hosts
	s.mu.Unlock()
}

func (s *extService) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.frames = append(s.frames, nil)
		i := len(s.frames) - 1
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c, i)
	}
}

// closeConns closes every connection open: the client reconnects.
func (s *extService) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func (s *extService) serve(c net.Conn, conn int) {
	defer s.wg.Done()
	defer c.Close()
	sr := codec.NewStreamReader(c, 0)
	for {
		id, body, err := sr.Next()
		if err != nil {
			return
		}
		var out []byte
		s.mu.Lock()
		s.frames[conn] = append(s.frames[conn], id)
		switch id {
		case codec.MsgHello:
			var h larspb.Hello
			if h.UnmarshalVT(body) == nil {
				s.hellos = append(s.hellos, h.Features)
			}
			if s.answerHello {
				out, _ = codec.AppendFrame(nil, codec.MsgHelloReply,
					&larspb.HelloReply{Features: s.features, IdleTimeoutMs: s.idleMs})
			}
		case codec.MsgGetRouteRequest:
			var req larspb.GetRouteRequest
			if req.UnmarshalVT(body) == nil {
				resp := larspb.GetRouteResponse{Modid: req.Modid, Cmdid: req.Cmdid}
				for _, h := range s.routes[route.Key{Modid: req.Modid, Cmdid: req.Cmdid}] {
					resp.Host = append(resp.Host, larstest.HostInfo(h))
				}
				resp.Host = append(resp.Host, s.raw[route.Key{Modid: req.Modid, Cmdid: req.Cmdid}]...)
				out, _ = codec.AppendFrame(nil, codec.MsgGetRouteResponse, &resp)
			}
		case codec.MsgUnsubscribe:
			var u larspb.Unsubscribe
			if err := u.UnmarshalVT(body); err != nil {
				s.t.Errorf("unsubscribe frame does not decode: %v", err)
			}
			for _, k := range u.Keys {
				s.unsubs = append(s.unsubs, route.Key{Modid: k.Modid, Cmdid: k.Cmdid})
			}
			s.unsubNs = append(s.unsubNs, len(u.Keys))
		}
		s.mu.Unlock()
		if out != nil {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}
}

// connFrames returns the ids of the frames connection i sent, in order.
func (s *extService) connFrames(i int) []codec.MsgID {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.frames) {
		return nil
	}
	return slices.Clone(s.frames[i])
}

// count returns how many frames of id arrived over every connection.
func (s *extService) count(id codec.MsgID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, fs := range s.frames {
		for _, f := range fs {
			if f == id {
				n++
			}
		}
	}
	return n
}

func (s *extService) unsubscribed() ([]route.Key, []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.unsubs), slices.Clone(s.unsubNs)
}

// newExtClient returns a route client of a table with a scripted clock and a
// negative TTL of a second, for the service at addr.
func newExtClient(addr string) (*RouteClient, *lb.Table, func(time.Duration)) {
	clk := newFakeClock()
	tbl := lb.NewTable(lb.Config{Clock: clk.Now, NegativeTTL: time.Second})
	c := NewRouteClient(RouteClientConfig{Addrs: []string{addr}, Table: tbl,
		Link: Link{Logger: quiet, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}})
	return c, tbl, clk.Advance
}
