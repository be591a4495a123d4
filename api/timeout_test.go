package api_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
)

// prompt is how soon a call must give up at its short timeout, at its context's
// deadline or when the agent refuses: far below the minute-long timeouts the tests
// configure where something else must end the call, with slack for a machine stalled
// for seconds.
const prompt = 10 * time.Second

func TestTimeoutSilentAgent(t *testing.T) {
	c := newClient(t, api.Config{Ports: []uint16{silentPort(t)}, Timeout: 30 * time.Millisecond})
	start := time.Now()
	_, err := c.GetHost(context.Background(), 1, 1)
	if !errors.Is(err, api.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GetHost = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond || d > prompt {
		t.Errorf("GetHost gave up after %v, want about 30ms", d)
	}
	if _, err := c.GetRoute(context.Background(), 1, 1, nil); !errors.Is(err, api.ErrTimeout) {
		t.Errorf("GetRoute = %v, want ErrTimeout", err)
	}
	if s := c.Stats(); s.Timeouts != 2 || s.Sent != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestTimeoutContextDeadline(t *testing.T) {
	c := newClient(t, api.Config{Ports: []uint16{silentPort(t)}, Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.GetHost(ctx, 1, 1); !errors.Is(err, api.ErrTimeout) {
		t.Fatalf("GetHost = %v, want ErrTimeout", err)
	}
	if _, err := c.GetRoute(ctx, 1, 1, nil); !errors.Is(err, api.ErrTimeout) {
		t.Fatalf("GetRoute = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > prompt {
		t.Errorf("gave up after %v, want the context's 20ms", d)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	if _, err := c.GetHost(ctx, 1, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled GetHost = %v, want context.Canceled", err)
	}
}

func TestRefusedAgent(t *testing.T) {
	c := newClient(t, api.Config{Ports: []uint16{closedPort(t)}, Timeout: time.Minute})
	ctx := context.Background()
	start := time.Now()
	for i := range 5 {
		if _, err := c.GetHost(ctx, 1, int32(i)); !errors.Is(err, api.ErrAgentUnreachable) {
			t.Fatalf("GetHost %d = %v, want ErrAgentUnreachable", i, err)
		}
	}
	if _, err := c.GetRoute(ctx, 1, 1, nil); !errors.Is(err, api.ErrAgentUnreachable) {
		t.Fatalf("GetRoute = %v, want ErrAgentUnreachable", err)
	}
	if err := c.RegInit(ctx, 1, 1); !errors.Is(err, api.ErrAgentUnreachable) {
		t.Fatalf("RegInit = %v, want ErrAgentUnreachable", err)
	}
	if d := time.Since(start); d > prompt {
		t.Errorf("refusals took %v", d)
	}
	if s := c.Stats(); s.Refused == 0 {
		t.Errorf("no refusal counted: %+v", s)
	}
}

// TestLateAnswer has the agent answer a call after its caller gave up, while the next
// caller for the same key waits on the same port: the late answer is discarded and
// counted, and the waiting caller gets its own answer. The agent holds both answers
// until the first caller has given up and the second has sent its request, so the
// late answer is late however fast or slow the machine is.
func TestLateAnswer(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	hA, hB := hostFor(1, 1), hostFor(1, 2)
	a.SetRoute(1, 1, hA, hB) // answered round-robin: hA to the first call, hB to the second
	a.HoldNext(2)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.GetHost(ctx, 1, 1); !errors.Is(err, api.ErrTimeout) {
		t.Fatalf("held GetHost = %v, want ErrTimeout", err)
	}
	type result struct {
		h   api.Host
		err error
	}
	second := make(chan result, 1)
	go func() {
		h, err := c.GetHost(context.Background(), 1, 1)
		second <- result{h, err}
	}()
	if !waitFor(func() bool { return a.Count(codec.MsgGetHostRequest) == 2 }) {
		t.Fatalf("the second request did not reach the agent: %d requests", a.Count(codec.MsgGetHostRequest))
	}
	a.Release() // hA's answer, now late, then hB's
	if r := <-second; r.err != nil || r.h != hB {
		t.Fatalf("GetHost after the timeout = %v, %v; want %v", r.h, r.err, hB)
	}
	if !waitFor(func() bool { return c.Stats().Late == 1 }) {
		t.Fatalf("late answer not counted: %+v", c.Stats())
	}
	if h, err := c.GetHost(context.Background(), 1, 1); err != nil || h != hA {
		t.Fatalf("third GetHost = %v, %v; want %v", h, err, hA)
	}
	if s := c.Stats(); s.Timeouts != 1 || s.Received != 3 || s.Malformed != 0 {
		t.Errorf("stats %+v", s)
	}
	if n := a.Count(codec.MsgGetHostRequest); n != 3 {
		t.Errorf("agent got %d requests, want 3", n)
	}
}

func TestClose(t *testing.T) {
	agent, port := silentAgent(t)
	c, err := api.New(api.Config{Ports: []uint16{port}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() {
		_, err := c.GetHost(context.Background(), 1, 1)
		done <- err
	}()
	go func() {
		_, err := c.GetRoute(context.Background(), 1, 1, nil)
		done <- err
	}()
	awaitRequests(t, agent, 2) // both calls sent: they wait for their answers
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case err := <-done:
			if !errors.Is(err, api.ErrClosed) {
				t.Errorf("waiting call = %v, want ErrClosed", err)
			}
		case <-time.After(prompt):
			t.Fatal("waiting call not released by Close")
		}
	}
	if _, err := c.GetHost(context.Background(), 1, 1); !errors.Is(err, api.ErrClosed) {
		t.Errorf("GetHost after Close = %v", err)
	}
	if err := c.Report(1, 1, api.Host{}, 0); !errors.Is(err, api.ErrClosed) {
		t.Errorf("Report after Close = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}
