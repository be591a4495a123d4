// Package peerstats counts, per verified identity (tlsconf.Peer.String), the
// connections a service holds and the requests it served, for /metrics. The number
// of identities named is bounded: past MaxPeers, new ones are counted together as
// OtherPeer, so that a site of many agents (or a CA issuing many names) cannot grow a
// service's memory or its metrics without bound.
package peerstats

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// MaxPeers is the most identities counted by name; the rest are OtherPeer.
const MaxPeers = 1000

// OtherPeer is the label of the identities past MaxPeers.
const OtherPeer = "_other"

// Set holds one Counter per identity seen. The zero value is not usable: call New.
type Set struct {
	mu    sync.Mutex
	max   int
	peers map[string]*Counter
	other Counter
}

// New returns an empty set that names at most maxPeers identities (MaxPeers when 0).
func New(maxPeers int) *Set {
	if maxPeers <= 0 {
		maxPeers = MaxPeers
	}
	return &Set{max: maxPeers, peers: map[string]*Counter{}}
}

// Counter is one identity's figures; its methods are safe for concurrent use and do
// not allocate.
type Counter struct {
	conns    atomic.Int64
	requests atomic.Uint64
}

// Connected counts a connection of peer (its tlsconf.Peer.String form) opened and
// returns its counter; call Disconnected on it when the connection ends. It
// allocates only for an identity not seen before. A nil set (a service without
// verified identities) or an empty peer counts nothing and returns nil, whose methods
// do nothing.
func (s *Set) Connected(peer string) *Counter {
	if s == nil || peer == "" {
		return nil
	}
	s.mu.Lock()
	c, ok := s.peers[peer]
	if !ok {
		if len(s.peers) < s.max {
			c = &Counter{}
			s.peers[peer] = c
		} else {
			c = &s.other
		}
	}
	s.mu.Unlock()
	c.conns.Add(1)
	return c
}

// Disconnected counts the connection ended.
func (c *Counter) Disconnected() {
	if c != nil {
		c.conns.Add(-1)
	}
}

// Served counts n requests served (pulls, results: the service says which).
func (c *Counter) Served(n uint64) {
	if c != nil {
		c.requests.Add(n)
	}
}

// Figures are one identity's counts at one moment.
type Figures struct {
	Conns    int64
	Requests uint64
}

// Get returns the figures of peer, or of OtherPeer.
func (s *Set) Get(peer string) Figures {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.other
	if peer != OtherPeer {
		if c = s.peers[peer]; c == nil {
			return Figures{}
		}
	}
	return Figures{Conns: c.conns.Load(), Requests: c.requests.Load()}
}

// WriteMetrics writes, for each identity seen (sorted) and OtherPeer when it has
// counted any, PREFIX_peer_connections{peer="ID"} and PREFIX_peer_REQUESTS_total.
func (s *Set) WriteMetrics(w io.Writer, prefix, requests string) {
	s.mu.Lock()
	names := make([]string, 0, len(s.peers))
	for p := range s.peers {
		names = append(names, p)
	}
	s.mu.Unlock()
	sort.Strings(names)
	if f := s.Get(OtherPeer); f != (Figures{}) {
		names = append(names, OtherPeer)
	}
	for _, p := range names {
		f := s.Get(p)
		// The identity's form escapes every byte but letters, digits, '.', '-', '_'
		// and the role's '/': nothing to quote in a label.
		metrics.WriteGaugeUint64(w, fmt.Sprintf(`%s_peer_connections{peer=%q}`, prefix, p), uint64(max(f.Conns, 0)))
		metrics.WriteCounterUint64(w, fmt.Sprintf(`%s_peer_%s_total{peer=%q}`, prefix, requests, p), f.Requests)
	}
}
