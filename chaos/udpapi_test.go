package chaos

import (
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/udpstat"
	"github.com/larsgo/lars/route"
)

// routeAsker asks the agent for a key's hosts over UDP (get_route, msgid 7), as
// business code does through the Lars API. Not safe for concurrent use.
type routeAsker struct {
	conns []*net.UDPConn // one per agent port
	buf   []byte
	sent  int // requests sent
}

// newRouteAsker connects to the agent's ports on loopback.
func newRouteAsker(ports []int) (*routeAsker, error) {
	a := &routeAsker{buf: make([]byte, 64<<10)}
	for _, p := range ports {
		c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			a.close()
			return nil, err
		}
		a.conns = append(a.conns, c)
	}
	return a, nil
}

func (a *routeAsker) close() {
	for _, c := range a.conns {
		c.Close()
	}
}

// hosts asks for the key's hosts and returns them as sorted "ip:port", waiting at most
// timeout for the answer. The request goes to port (modid+cmdid) mod len(ports), as the
// Lars API sends it.
func (a *routeAsker) hosts(modid, cmdid int32, timeout time.Duration) ([]string, error) {
	c := a.conns[int(uint32(modid+cmdid))%len(a.conns)]
	frame, err := codec.AppendFrame(nil, codec.MsgAPIGetRouteRequest, &larspb.GetRouteRequest{Modid: modid, Cmdid: cmdid})
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(frame); err != nil {
		return nil, err
	}
	a.sent++
	c.SetReadDeadline(time.Now().Add(timeout))
	for {
		n, err := c.Read(a.buf)
		if err != nil {
			return nil, fmt.Errorf("get_route %d/%d: %w", modid, cmdid, err)
		}
		id, body, r := codec.ParseDatagram(a.buf[:n])
		if r != codec.ReasonOK || id != codec.MsgAPIGetRouteResponse {
			continue
		}
		var resp larspb.GetRouteResponse
		if err := resp.UnmarshalVT(body); err != nil {
			return nil, fmt.Errorf("get_route %d/%d: %w", modid, cmdid, err)
		}
		if resp.Modid != modid || resp.Cmdid != cmdid {
			continue // a late answer to an earlier request
		}
		hosts := make([]string, len(resp.Host))
		for i, h := range resp.Host {
			hosts[i] = route.AddrPortFromWire(h.Ip, h.Port).String()
		}
		slices.Sort(hosts)
		return hosts, nil
	}
}

// serviceKeys are the keys 1/1 to 100/1 of examples/routes.txt that the loads ask for.
func serviceKeys() []routeKey {
	keys := make([]routeKey, 0, 100)
	for m := int32(1); m <= 100; m++ {
		keys = append(keys, routeKey{m, 1})
	}
	return keys
}

// pullKeys asks the agent for the route of every key (get_route, which pulls a key it
// does not hold from lars-dns) until it answers each with hosts, so that a load started
// next finds every key in the agent's table instead of racing the first pulls. It fails
// the test when the agent holds no route for a key after eventLimit.
func (s *system) pullKeys(asker *routeAsker, keys []routeKey) {
	s.t.Helper()
	for _, k := range keys {
		deadline := time.Now().Add(eventLimit)
		for {
			hosts, err := asker.hosts(k.modid, k.cmdid, 200*time.Millisecond)
			if err == nil && len(hosts) > 0 {
				break
			}
			if time.Now().After(deadline) {
				s.t.Fatalf("the agent holds no route for %d/%d after %v: %v", k.modid, k.cmdid, eventLimit, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// pullServiceKeys is pullKeys of serviceKeys on a route asker of its own.
func (s *system) pullServiceKeys() {
	s.t.Helper()
	asker, err := newRouteAsker(s.ports)
	if err != nil {
		s.t.Fatal(err)
	}
	defer asker.close()
	s.pullKeys(asker, serviceKeys())
}

// dropWatch follows the kernel drops of sockets that come and go, such as the load
// generator's, which are closed when its run ends: watch reads them, total is the sum
// of each socket's last count.
type dropWatch struct {
	match func(local, remote int) bool
	last  map[string]uint64 // by inode
}

// newDropWatch follows the sockets sending to the agent's ports: the load's.
func newDropWatch(agentPorts []int) *dropWatch {
	return &dropWatch{match: func(_, remote int) bool { return slices.Contains(agentPorts, remote) }, last: map[string]uint64{}}
}

// watch reads the drops of the sockets open now.
func (w *dropWatch) watch() error {
	drops, err := udpstat.SocketDrops(w.match)
	for inode, n := range drops {
		w.last[inode] = n
	}
	return err
}

// follow watches every 100 ms on a goroutine of its own until stop is closed, then
// once more; the channel it returns gives the first error, or nil, once it is done. The
// sockets come and go with the load, so a count is kept only if read before its socket
// closes: following them all along misses at most the drops of its last 100 ms. total
// may be read once the channel has given its value.
func (w *dropWatch) follow(stop <-chan struct{}) <-chan error {
	done := make(chan error, 1)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		var first error
		for {
			select {
			case <-stop:
				if err := w.watch(); first == nil {
					first = err
				}
				done <- first
				return
			case <-tick.C:
				if err := w.watch(); first == nil {
					first = err
				}
			}
		}
	}()
	return done
}

// total is the drops counted on every socket seen.
func (w *dropWatch) total() uint64 {
	var sum uint64
	for _, n := range w.last {
		sum += n
	}
	return sum
}
