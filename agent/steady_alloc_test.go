//go:build !race

package agent_test

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/vectors"
)

// TestSteadyStateAlloc serves 200,000 get_host round trips in process, after a
// warm-up, and requires fewer than 0.01 heap allocations per request over the whole
// process (agent and client).
func TestSteadyStateAlloc(t *testing.T) {
	a := startAgent(t, agent.Config{Routes: goldenRoutes(), Ports: []int{0}})
	uc, err := batchio.DialUDP("udp", a.Addrs()[0].String(), batchio.ListenOptions{RecvBuf: 4 << 20, SendBuf: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := batchio.NewConn(uc)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const batch = 32
	send, recv := batchio.NewBatch(batch, 64), batchio.NewBatch(batch, 64)
	req := vectors.Frame("get_host_request")
	for i := range batch {
		send.Msgs[i].N = copy(send.Msgs[i].Buf, req)
	}
	roundTrips := func(n int) int {
		got := 0
		for got < n {
			if _, err := conn.WriteBatch(send, batch); err != nil {
				t.Fatal(err)
			}
			for want := got + batch; got < want; {
				uc.SetReadDeadline(time.Now().Add(time.Second))
				k, err := conn.ReadBatch(recv)
				if err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						break // a lost datagram: send the next batch
					}
					t.Fatal(err)
				}
				got += k
			}
		}
		return got
	}
	roundTrips(20000) // warm-up: pools, buffers and the scheduler settle
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := roundTrips(200000)
	runtime.ReadMemStats(&after)
	perReq := float64(after.Mallocs-before.Mallocs) / float64(n)
	t.Logf("%d round trips, %d allocations, %.5f per request", n, after.Mallocs-before.Mallocs, perReq)
	if perReq >= 0.01 {
		t.Fatalf("%.5f heap allocations per request, want < 0.01", perReq)
	}
}
