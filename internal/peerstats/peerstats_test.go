package peerstats

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestCountsPerPeerAndBounds(t *testing.T) {
	s := New(2)
	a := s.Connected("agent/a")
	a.Served(3)
	a2 := s.Connected("agent/a")
	a2.Served(1)
	b := s.Connected("agent/b")
	c := s.Connected("agent/c") // past the bound
	c.Served(7)
	d := s.Connected("agent/d")
	d.Disconnected()
	if f := s.Get("agent/a"); f != (Figures{Conns: 2, Requests: 4}) {
		t.Errorf("agent/a %+v", f)
	}
	if f := s.Get(OtherPeer); f != (Figures{Conns: 1, Requests: 7}) {
		t.Errorf("other %+v", f)
	}
	if f := s.Get("agent/c"); f != (Figures{}) {
		t.Errorf("agent/c past the bound counted by name: %+v", f)
	}
	b.Disconnected()
	var m strings.Builder
	s.WriteMetrics(&m, "lars_dns", "pulls")
	want := `lars_dns_peer_connections{peer="agent/a"} 2
lars_dns_peer_pulls_total{peer="agent/a"} 4
lars_dns_peer_connections{peer="agent/b"} 0
lars_dns_peer_pulls_total{peer="agent/b"} 0
lars_dns_peer_connections{peer="_other"} 1
lars_dns_peer_pulls_total{peer="_other"} 7
`
	if m.String() != want {
		t.Errorf("metrics:\n%s\nwant:\n%s", m.String(), want)
	}
}

func TestConcurrentAndAllocationFree(t *testing.T) {
	s := New(0)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				c := s.Connected(fmt.Sprintf("agent/%d", (i*100+j)%50))
				c.Served(1)
				c.Disconnected()
			}
		})
	}
	wg.Wait()
	var total uint64
	for i := range 50 {
		f := s.Get(fmt.Sprintf("agent/%d", i))
		total += f.Requests
		if f.Conns != 0 {
			t.Errorf("agent/%d: %d connections left", i, f.Conns)
		}
	}
	if total != 800 {
		t.Errorf("requests %d, want 800", total)
	}
	var none *Set
	if c := none.Connected("agent/0"); c != nil {
		t.Error("a nil set counts")
	} else {
		c.Served(1) // does nothing
		c.Disconnected()
	}
	if s.Connected("") != nil {
		t.Error("an empty identity counted")
	}
	c := s.Connected("agent/0")
	if n := testing.AllocsPerRun(1000, func() { c.Served(1) }); n != 0 {
		t.Errorf("Served allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { s.Connected("agent/0").Disconnected() }); n != 0 {
		t.Errorf("Connected for a known identity allocates %v times", n)
	}
}
