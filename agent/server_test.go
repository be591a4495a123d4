package agent_test

import (
	"context"
	"testing"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/waitfor"
)

// TestServeEachWaitMode answers get_host on every port in each wait mode, with two
// sockets per port, and stops while every serving goroutine waits for datagrams:
// closing the sockets must wake them all (Shutdown waits for every goroutine; with
// a generous limit, so only a goroutine that is never woken fails the test).
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
			eventually(t, patience, "every serving goroutine back in ReadBatch", func() bool {
				return waitfor.GoroutinesIn("agent.(*worker).serve", "batchio.(*Conn).ReadBatch") >= a.ServingSockets()
			})
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			if err := a.Shutdown(ctx); err != nil {
				t.Fatalf("serving goroutines not woken by the close: %v", err)
			}
		})
	}
}
