package agent_test

import (
	"testing"
	"time"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/internal/batchio"
)

// TestServeEachWaitMode answers get_host on every port in each wait mode, with two
// sockets per port, and stops within the shutdown budget while the serving
// goroutines wait for datagrams.
func TestServeEachWaitMode(t *testing.T) {
	for _, w := range []batchio.Wait{batchio.WaitBlocking, batchio.WaitPoll} {
		t.Run(w.String(), func(t *testing.T) {
			a, err := agent.New(agent.Config{Routes: goldenRoutes(), Ports: []int{0, 0, 0},
				SocketsPerPort: 2, Wait: w, Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			a.Start()
			for _, addr := range a.Addrs() {
				c := dial(t, addr)
				for seq := range uint32(4) {
					if m := c.getHost(seq, 1, 1); m.Retcode != 0 || m.Host == nil {
						t.Fatalf("port %d: answer %v", addr.Port(), m)
					}
				}
			}
			time.Sleep(10 * time.Millisecond) // let the serving goroutines wait again
			start := time.Now()
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("Close took %v, want under 2s", d)
			}
		})
	}
}
