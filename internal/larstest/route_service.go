package larstest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// FakeRouteService is a Lars route service ("dns") on loopback TCP. It answers every
// GetRouteRequest (msgid 1) with a GetRouteResponse (msgid 2) holding the hosts it has
// for the key (none if it has none), remembers which keys each connection asked for,
// and pushes a key's new hosts to those connections when SetRoute or RemoveRoute
// changes it. Like Lars's, it counts a Hello as a frame it does not know and never
// answers it; but hosts with an IPv6 address, a weight or a zone are written with the
// route extension's fields (HostInfo), to every connection. Safe for concurrent use.
type FakeRouteService struct {
	server
	// guarded by server.mu:
	routes    map[route.Key][]route.Host
	asked     map[*serverConn]map[route.Key]struct{}
	requests  []route.Key
	silent    bool
	badFrames int
}

// StartRouteService starts a fake route service listening on addr ("" or a port of 0:
// a free port on 127.0.0.1). Close stops it.
func StartRouteService(addr string) (*FakeRouteService, error) {
	s := &FakeRouteService{
		routes: make(map[route.Key][]route.Host),
		asked:  make(map[*serverConn]map[route.Key]struct{}),
	}
	s.handle = s.serveConn
	if err := s.start(addr); err != nil {
		return nil, err
	}
	return s, nil
}

// NewRouteService starts a fake route service on a free loopback port, failing tb if it
// cannot, and closes it when the test ends.
func NewRouteService(tb testing.TB) *FakeRouteService {
	tb.Helper()
	s, err := StartRouteService("")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// SetRoute makes hosts the route of the key and pushes it to every connection that
// asked for the key. No hosts is RemoveRoute.
func (s *FakeRouteService) SetRoute(modid, cmdid int32, hosts ...route.Host) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := route.Key{Modid: modid, Cmdid: cmdid}
	if len(hosts) == 0 {
		delete(s.routes, k)
	} else {
		s.routes[k] = slices.Clone(hosts)
	}
	s.pushLocked(k)
}

// RemoveRoute forgets the key and pushes an empty answer (the key is gone) to every
// connection that asked for it.
func (s *FakeRouteService) RemoveRoute(modid, cmdid int32) { s.SetRoute(modid, cmdid) }

// Route returns the hosts the fake has for the key.
func (s *FakeRouteService) Route(modid, cmdid int32) []route.Host {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.routes[route.Key{Modid: modid, Cmdid: cmdid}])
}

// Push sends the key's current route to every connection that asked for it, even when
// silent, and returns how many it was sent to.
func (s *FakeRouteService) Push(modid, cmdid int32) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushLocked(route.Key{Modid: modid, Cmdid: cmdid})
}

func (s *FakeRouteService) pushLocked(k route.Key) int {
	frame := s.answerLocked(k)
	n := 0
	for c, keys := range s.asked {
		if _, ok := keys[k]; ok && c.write(frame) == nil {
			n++
		}
	}
	return n
}

// answerLocked encodes the GetRouteResponse frame for the key.
func (s *FakeRouteService) answerLocked(k route.Key) []byte {
	resp := larspb.GetRouteResponse{Modid: k.Modid, Cmdid: k.Cmdid}
	for _, h := range s.routes[k] {
		resp.Host = append(resp.Host, HostInfo(h))
	}
	frame, err := codec.AppendFrame(nil, codec.MsgGetRouteResponse, &resp)
	if err != nil {
		panic(fmt.Sprintf("larstest: route of %d/%d: %v", k.Modid, k.Cmdid, err))
	}
	return frame
}

// HostInfo returns the wire form of h as a route service of ours writes it to an agent
// that said FEATURE_ROUTE_EXT: an IPv4 host in ip, an IPv6 one in ip6 (ip 0), weight
// and zone when h names them. A plain IPv4 host is exactly Lars's HostInfo.
func HostInfo(h route.Host) *larspb.HostInfo {
	hi, buf := &larspb.HostInfo{}, new([16]byte)
	codec.SetHost(hi, buf, h, true)
	return hi
}

// SetSilent makes the fake record requests without answering them (true) or answer
// them again (false). Pushes still go out.
func (s *FakeRouteService) SetSilent(silent bool) {
	s.mu.Lock()
	s.silent = silent
	s.mu.Unlock()
}

// Requests returns every key asked for since the fake started, in order of arrival,
// restarts included.
func (s *FakeRouteService) Requests() []route.Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequestCount returns how many times the key was asked for.
func (s *FakeRouteService) RequestCount(modid, cmdid int32) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range s.requests {
		if k == (route.Key{Modid: modid, Cmdid: cmdid}) {
			n++
		}
	}
	return n
}

// RequestTotal returns how many requests have arrived in all, restarts included:
// len(Requests()) without the copy.
func (s *FakeRouteService) RequestTotal() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Subscribed returns how many open connections asked for the key: the connections a
// change of the key is pushed to.
func (s *FakeRouteService) Subscribed(modid, cmdid int32) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, keys := range s.asked {
		if _, ok := keys[route.Key{Modid: modid, Cmdid: cmdid}]; ok {
			n++
		}
	}
	return n
}

// Subscriptions returns the number of keys asked for over every open connection, a
// key asked on two connections counting twice. Its cost does not grow with the keys.
func (s *FakeRouteService) Subscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, keys := range s.asked {
		n += len(keys)
	}
	return n
}

// WaitSubscriptions waits until Subscriptions is at least n.
func (s *FakeRouteService) WaitSubscriptions(n int, timeout time.Duration) error {
	if err := s.Wait(timeout, func() bool { return s.Subscriptions() >= n }); err != nil {
		return fmt.Errorf("%d subscriptions, want %d: %w", s.Subscriptions(), n, err)
	}
	return nil
}

// WaitRequests waits until at least n requests have arrived in all and returns them.
func (s *FakeRouteService) WaitRequests(n int, timeout time.Duration) ([]route.Key, error) {
	err := s.Wait(timeout, func() bool { return s.RequestTotal() >= n })
	got := s.Requests()
	if err != nil {
		return got, fmt.Errorf("%d route requests, want %d: %w", len(got), n, err)
	}
	return got, nil
}

// WaitRequestCount waits until the key has been asked for at least n times in all.
func (s *FakeRouteService) WaitRequestCount(modid, cmdid int32, n int, timeout time.Duration) error {
	err := s.Wait(timeout, func() bool { return s.RequestCount(modid, cmdid) >= n })
	if err != nil {
		return fmt.Errorf("key %d/%d asked %d times, want %d: %w",
			modid, cmdid, s.RequestCount(modid, cmdid), n, err)
	}
	return nil
}

// BadFrames returns how many frames the fake dropped: unknown msgid or bad body.
func (s *FakeRouteService) BadFrames() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.badFrames
}

// serveConn reads requests from one connection and answers them until it fails.
func (s *FakeRouteService) serveConn(c *serverConn) {
	defer func() {
		s.mu.Lock()
		delete(s.asked, c)
		s.mu.Unlock()
	}()
	sr := codec.NewStreamReader(c, 0)
	var req larspb.GetRouteRequest
	for {
		id, body, err := sr.Next()
		if err != nil {
			return // a protocol error too: the stream cannot go on
		}
		req.ResetVT()
		bad := id != codec.MsgGetRouteRequest || req.UnmarshalVT(body) != nil
		s.mu.Lock()
		if bad {
			s.badFrames++
		} else {
			s.requestLocked(c, route.Key{Modid: req.Modid, Cmdid: req.Cmdid})
		}
		s.notifyLocked()
		s.mu.Unlock()
	}
}

func (s *FakeRouteService) requestLocked(c *serverConn, k route.Key) {
	s.requests = append(s.requests, k)
	keys := s.asked[c]
	if keys == nil {
		keys = make(map[route.Key]struct{})
		s.asked[c] = keys
	}
	keys[k] = struct{}{}
	if !s.silent {
		if err := c.write(s.answerLocked(k)); err != nil {
			c.Close() // the reader ends too
		}
	}
}
