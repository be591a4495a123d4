package chaos

import (
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/proctest"
)

// TestGarbageFloods throws garbage at every part and checks that only the garbage
// suffers: random datagrams and random keys at the agent (its keys and memory stay
// bounded, it keeps answering), random bytes and oversized frames at lars-dns and
// lars-reporter (only those connections closed, counted), and more idle connections
// than lars-dns's -max-conns (refused beyond it, counted, the agent still served).
func TestGarbageFloods(t *testing.T) {
	requireChaos(t)
	eachEngine(t, garbageFloods)
}

func garbageFloods(t *testing.T, e engine) {
	s := startSystem(t, systemConfig{engine: e})
	getHost := []string{"-ports", s.larsctlPorts(), "get-host", "1", "1"}
	proctest.RunUntil(t, eventLimit, 0, "larsctl", getHost...)
	var rows []row
	rng := rand.New(rand.NewPCG(1, 2))

	// 1. The agent: random datagrams, then get_host for random keys.
	rss0 := agentRSSKiB(t, s)
	var udp []*net.UDPConn
	for _, p := range s.ports {
		c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		udp = append(udp, c)
	}
	const garbage, randomKeys = 30000, 20000
	buf := make([]byte, 1500)
	for i := range garbage {
		n := rng.IntN(len(buf))
		for j := range buf[:n] {
			buf[j] = byte(rng.Uint32())
		}
		udp[i%len(udp)].Write(buf[:n])
		if i%500 == 0 {
			time.Sleep(time.Millisecond) // a flood, not a loss test of the socket buffers
		}
	}
	var req larspb.GetHostRequest
	for i := range randomKeys {
		req.Seq, req.Modid, req.Cmdid = uint32(i), rng.Int32(), rng.Int32()
		frame, _ := codec.AppendFrame(nil, codec.MsgGetHostRequest, &req)
		udp[i%len(udp)].Write(frame)
		if i%500 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	drops := metricSum(s.admin, "lars_agent_drops_total{")
	// The agent keeps answering: a request may wait behind the flood in the socket's
	// buffer, or be dropped by the kernel when that buffer is full, so it is asked
	// again until it answers.
	proctest.RunUntil(t, eventLimit, 0, "larsctl", getHost...)
	// The random keys were pulled, answered empty by lars-dns and kept for the negative
	// TTL only: the table goes back to the real keys. 20,000 pulls take a while on a
	// busy machine.
	proctest.Eventually(t, 2*eventLimit, "random keys expired from the agent's table", func() (bool, string) {
		keys := s.metric("lars_agent_keys")
		return keys > 0 && keys <= 200, fmt.Sprintf("%.0f keys", keys)
	})
	rss1 := agentRSSKiB(t, s)
	if rss1-rss0 > 200<<10 {
		t.Errorf("agent RSS grew from %d to %d KiB", rss0, rss1)
	}
	rows = append(rows, row{fmt.Sprintf("%d random datagrams and %d get_host for random keys at the agent", garbage, randomKeys),
		"kept answering; the random keys left its table after the negative TTL; memory bounded",
		fmt.Sprintf("%.0f datagrams dropped and counted (kernel buffers may drop more); RSS %d -> %d KiB; keys back to %.0f",
			drops, rss0, rss1, s.metric("lars_agent_keys"))})

	// 2. Random bytes and oversized frames at lars-dns and lars-reporter.
	for _, target := range []struct {
		name, addr, admin, metric string
	}{
		{"lars-dns", s.dnsAddrs[0], s.dnsAdmin[0], "lars_dns_bad_frames_total"},
		{"lars-reporter", s.repAddr, s.repAdmin, "lars_reporter_bad_frames_total"},
	} {
		before := s.mustMetricAt(target.admin, target.metric)
		const conns = 50
		closed := 0
		for i := range conns {
			c, err := net.Dial("tcp", target.addr)
			if err != nil {
				t.Fatal(err)
			}
			var payload []byte
			if i%2 == 0 { // a frame header announcing more than any frame may hold
				payload = []byte{byte(1 + i%8), 0, 0, 0, 0xff, 0xff, 0x00, 0x01}
			} else {
				payload = make([]byte, 4096)
				for j := range payload {
					payload[j] = byte(rng.Uint32())
				}
			}
			c.Write(payload)
			c.SetReadDeadline(time.Now().Add(eventLimit))
			if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
				closed++
			}
			c.Close()
		}
		if closed != conns {
			t.Errorf("%s: %d of %d garbage connections closed", target.name, closed, conns)
		}
		// A service may count a bad frame after closing its connection: wait for it.
		var counted float64
		proctest.Eventually(t, eventLimit, target.name+" counting the bad frames", func() (bool, string) {
			counted = metricAt(target.admin, target.metric) - before
			return counted >= conns/2, fmt.Sprintf("%.0f of %d garbage connections counted as bad frames", counted, conns)
		})
		rows = append(rows, row{fmt.Sprintf("random bytes and oversized frames at %s (%d connections)", target.name, conns),
			"each garbage connection closed; the service kept serving",
			fmt.Sprintf("%d closed, %.0f counted as bad frames", closed, counted)})
	}
	s.routeAdd(1, 1, "10.9.0.3", 9003) // the agent is still served: through lars-dns A or B
	s.waitAgentHost(1, 1, "10.9.0.3:9003")

	// 3. More idle connections than -max-conns at lars-dns A.
	refused0 := s.mustMetricAt(s.dnsAdmin[0], "lars_dns_connections_refused_total")
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	const extra = 10000
	for range extra {
		c, err := net.Dial("tcp", s.dnsAddrs[0])
		if err != nil {
			t.Fatalf("dial %d: %v", len(idle), err)
		}
		idle = append(idle, c)
	}
	proctest.Eventually(t, 2*eventLimit, "connections beyond -max-conns refused", func() (bool, string) {
		r := metricAt(s.dnsAdmin[0], "lars_dns_connections_refused_total") - refused0
		return r >= extra-dnsMaxConns, fmt.Sprintf("%.0f refused", r)
	})
	refused := metricAt(s.dnsAdmin[0], "lars_dns_connections_refused_total") - refused0
	s.routeAdd(1, 1, "10.9.0.4", 9004)
	took := s.waitAgentHost(1, 1, "10.9.0.4:9004")
	rows = append(rows, row{fmt.Sprintf("%d idle connections at lars-dns A (-max-conns %d)", extra, dnsMaxConns),
		"refused beyond the bound and counted; the agent still served",
		fmt.Sprintf("%.0f refused; a change reached the agent %.2fs after the write", refused, took.Seconds())})
	printTable(t, "garbage floods ("+e.name+")", rows)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// agentRSSKiB returns the agent's resident memory in KiB.
func agentRSSKiB(t *testing.T, s *system) int {
	t.Helper()
	mib, err := rssMiB(s.agent.PID())
	if err != nil {
		t.Fatal(err)
	}
	return int(mib * 1024)
}
