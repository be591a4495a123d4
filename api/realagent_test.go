package api_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/internal/agenttest"
	"github.com/larsgo/lars/route"
)

// realAgent starts the real agent on three ephemeral ports with routes for keys
// (k, k) of k hosts each, k = 1..5, and returns a client bound to it.
func realAgent(t *testing.T, timeout time.Duration) (*agent.Agent, *api.Client) {
	t.Helper()
	routes := map[route.Key][]route.Host{}
	for k := int32(1); k <= 5; k++ {
		for i := range k {
			routes[route.Key{Modid: k, Cmdid: k}] = append(routes[route.Key{Modid: k, Cmdid: k}],
				route.FromWire(10<<24|k<<8|(i+1), 9000+k))
		}
	}
	a, ports := agenttest.Start(t, routes, 3)
	c, err := api.New(api.Config{Ports: ports, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return a, c
}

// hostOfKey reports whether h belongs to key (k, k) of realAgent's routes.
func hostOfKey(h api.Host, k int32) bool {
	ip, port, ok := h.Wire()
	return ok && port == 9000+k && ip>>8 == 10<<16|k && ip&0xff >= 1 && ip&0xff <= k
}

func TestRealAgentEveryCall(t *testing.T) {
	a, c := realAgent(t, patience)
	ctx := context.Background()
	if err := c.RegInit(ctx, 3, 3); err != nil {
		t.Fatal(err)
	}
	seen := map[api.Host]bool{}
	for range 6 {
		h, err := c.GetHost(ctx, 3, 3)
		if err != nil || !hostOfKey(h, 3) {
			t.Fatalf("GetHost = %v, %v", h, err)
		}
		seen[h] = true
	}
	if len(seen) != 3 {
		t.Fatalf("round robin over 3 hosts chose %d", len(seen))
	}
	route, err := c.GetRoute(ctx, 4, 4, nil)
	if err != nil || len(route) != 4 {
		t.Fatalf("GetRoute = %v, %v", route, err)
	}
	if _, err := c.GetHost(ctx, 99, 99); !errors.Is(err, api.ErrNoExist) {
		t.Fatalf("unknown key: %v, want ErrNoExist", err)
	}
	if err := c.RegInit(ctx, 99, 99); !errors.Is(err, api.ErrNoExist) {
		t.Fatalf("RegInit of an unknown key: %v", err)
	}
	// Reports reach the agent: 15 failures overload key (1,1)'s only host.
	h, _ := c.GetHost(ctx, 1, 1)
	for range 15 {
		if err := c.Report(1, 1, h, 1); err != nil {
			t.Fatal(err)
		}
	}
	if !waitFor(func() bool { return a.Table().Stats().HostsOverloaded == 1 }) {
		t.Fatal("reports did not overload the host")
	}
	if _, err := c.GetHost(ctx, 1, 1); !errors.Is(err, api.ErrOverload) {
		t.Fatalf("all hosts overloaded: %v, want ErrOverload", err)
	}
}

func TestRealAgentConcurrentCallers(t *testing.T) {
	_, c := realAgent(t, patience)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := int32(g%5) + 1
			for range 50 {
				h, err := c.GetHost(context.Background(), k, k)
				if err != nil {
					errs <- err
					return
				}
				if !hostOfKey(h, k) {
					errs <- errors.New("answer crossed between callers: " + h.String())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Timeouts != 0 || s.Late != 0 || s.Malformed != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRealAgentDown(t *testing.T) {
	a, c := realAgent(t, patience)
	if _, err := c.GetHost(context.Background(), 2, 2); err != nil {
		t.Fatal(err)
	}
	a.Close() // the ports close: the kernel answers with ICMP port unreachable
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.GetHost(ctx, 2, 2)
	if !errors.Is(err, api.ErrAgentUnreachable) && !errors.Is(err, api.ErrTimeout) {
		t.Fatalf("agent down: %v", err)
	}
	if d := time.Since(start); d > prompt {
		t.Fatalf("took %v with a 300ms deadline", d)
	}

	// Silence: something holds the port but never answers.
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	sc, err := api.New(api.Config{Ports: []uint16{uint16(silent.LocalAddr().(*net.UDPAddr).Port)}, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if _, err := sc.GetHost(context.Background(), 1, 1); !errors.Is(err, api.ErrTimeout) {
		t.Fatalf("silent agent: %v, want ErrTimeout", err)
	}
}

// TestRealAgentLateAnswersDiscarded makes calls give up before the agent can answer;
// the answers that come later are counted late and never given to the next caller.
// The deadlines cycle from 10 us to about 1 ms, so that on a machine of any speed some
// calls are sent and then give up before their answer; it goes on until a late answer
// is seen, for up to patience.
func TestRealAgentLateAnswersDiscarded(t *testing.T) {
	_, c := realAgent(t, patience)
	giveUp := time.Now().Add(patience)
	for i := 0; c.Stats().Late == 0 && time.Now().Before(giveUp); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(10+i%100*10)*time.Microsecond)
		_, err := c.GetHost(ctx, 2, 2)
		cancel()
		if err == nil {
			continue // the agent was quicker than the timer
		}
		if !errors.Is(err, api.ErrTimeout) {
			t.Fatalf("err %v, want ErrTimeout", err)
		}
		h, err := c.GetHost(context.Background(), 5, 5)
		if err != nil || !hostOfKey(h, 5) {
			t.Fatalf("call after a timed-out one: %v, %v", h, err)
		}
	}
	if c.Stats().Late == 0 {
		t.Fatalf("no late answer seen in %v of timed-out calls", patience)
	}
}
