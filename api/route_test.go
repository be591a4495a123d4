package api_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/route"
)

func TestGetRoute(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	hosts := []api.Host{hostFor(3, 4), route.FromWire(-1062731519, 1), route.FromWire(0x7f000001, 9)}
	a.SetRoute(3, 4, hosts...)
	pre := route.FromWire(1, 1)
	got, err := c.GetRoute(context.Background(), 3, 4, []api.Host{pre})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0] != pre {
		t.Fatalf("GetRoute = %v, want %v followed by %v", got, pre, hosts)
	}
	for _, h := range hosts {
		if !slices.Contains(got[1:], h) {
			t.Errorf("host %v missing from %v", h, got)
		}
	}
	got, err = c.GetRoute(context.Background(), 3, 5, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("unknown key: GetRoute = %v, %v; want empty, nil", got, err)
	}
}

func TestGetRouteConcurrentSameKey(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	a.SetRoute(5, 5, hostFor(5, 5), hostFor(5, 6))
	a.HoldNext(1) // the others join while the first waits; their answers end its wait
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			hosts, err := c.GetRoute(context.Background(), 5, 5, nil)
			if err == nil && len(hosts) != 2 {
				err = errors.New("wrong route")
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Answers beyond what the callers needed are late, never misdelivered. The held
	// answer goes out now, and a GetHost on the same port reads it and any other
	// left: the agent answers a port's requests in order, so every answer still due
	// comes before the GetHost's (which, unlike get_route's, carries a seq).
	a.Release()
	const samePort = 8 // (5 + 8) mod 3 == (5 + 5) mod 3
	a.SetRoute(5, samePort, hostFor(5, samePort))
	if h, err := c.GetHost(context.Background(), 5, samePort); err != nil || h != hostFor(5, samePort) {
		t.Fatalf("GetHost after the others = %v, %v", h, err)
	}
	if got, sent := c.Stats().Received, a.Count(codec.MsgAPIGetRouteRequest)+1; got != sent {
		t.Errorf("%d answers received of %d requests", got, sent)
	}
	if s := c.Stats(); s.Malformed != 0 || s.Timeouts != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestRegInit(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	ctx := context.Background()

	t.Run("route known", func(t *testing.T) {
		a.SetRoute(1, 1, hostFor(1, 1))
		if err := c.RegInit(ctx, 1, 1); err != nil {
			t.Fatal(err)
		}
		if n := a.Count(codec.MsgAPIGetRouteRequest); n != 1 {
			t.Errorf("%d get_route requests, want 1", n)
		}
	})
	t.Run("route appears", func(t *testing.T) {
		before := a.Count(codec.MsgAPIGetRouteRequest)
		// The first request's answer (empty: the agent records a request and builds
		// its answer under one lock) is held until the route is set, so the second
		// request finds it however late this goroutine runs.
		a.HoldNext(1)
		go func() {
			if a.WaitCount(codec.MsgAPIGetRouteRequest, before+1, patience) {
				a.SetRoute(2, 1, hostFor(2, 1))
			}
			a.Release()
		}()
		if err := c.RegInit(ctx, 2, 1); err != nil {
			t.Fatal(err)
		}
		if n := a.Count(codec.MsgAPIGetRouteRequest) - before; n != 2 {
			t.Errorf("%d get_route requests, want 2", n)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		before := a.Count(codec.MsgAPIGetRouteRequest)
		start := time.Now()
		if err := c.RegInit(ctx, 3, 1); !errors.Is(err, api.ErrNoExist) {
			t.Fatalf("RegInit = %v, want ErrNoExist", err)
		}
		if n := a.Count(codec.MsgAPIGetRouteRequest) - before; n != 3 {
			t.Errorf("%d get_route requests, want 3", n)
		}
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Errorf("gave up after %v, want 2 pauses of 50ms", d)
		}
	})
	t.Run("agent silent", func(t *testing.T) {
		s := newClient(t, api.Config{Ports: []uint16{silentPort(t)}, Timeout: 10 * time.Millisecond})
		if err := s.RegInit(ctx, 1, 1); !errors.Is(err, api.ErrTimeout) {
			t.Fatalf("RegInit = %v, want ErrTimeout", err)
		}
		if n := s.Stats().Sent; n != 3 {
			t.Errorf("%d requests sent, want 3", n)
		}
	})
}
