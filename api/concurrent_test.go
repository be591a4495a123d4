package api_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
)

// TestConcurrentCallers runs 100 goroutines on one client, each on its own keys, and
// checks that nobody ever gets an answer meant for someone else.
func TestConcurrentCallers(t *testing.T) {
	const callers, calls = 100, 40
	a := startAgent(t)
	c := clientOf(t, a, patience)
	for g := range int32(callers) {
		for k := range int32(3) {
			a.SetRoute(g, k, hostFor(g, k))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for g := range int32(callers) {
		wg.Go(func() {
			for i := range int32(calls) {
				k := i % 3
				h, err := c.GetHost(context.Background(), g, k)
				if err == nil && h != hostFor(g, k) {
					err = fmt.Errorf("caller %d got %v for key (%d, %d), want %v", g, h, g, k, hostFor(g, k))
				}
				if err == nil {
					err = c.Report(g, k, h, 0)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s := c.Stats()
	if s.Received != callers*calls || s.Sent != 2*callers*calls || s.Late+s.Malformed+s.Timeouts != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestMaxInFlight runs more callers than the client has waiter slots: the extra ones
// wait for a slot and all succeed.
func TestMaxInFlight(t *testing.T) {
	a := startAgent(t)
	cfg := a.Config()
	cfg.MaxInFlight = 2
	cfg.Timeout = patience
	c := newClient(t, cfg)
	a.SetRoute(1, 1, hostFor(1, 1))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			for range 10 {
				if h, err := c.GetHost(context.Background(), 1, 1); err != nil || h != hostFor(1, 1) {
					errs <- fmt.Errorf("GetHost = %v, %v", h, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSlotSaturatedTimeout checks that a caller finding every slot taken gives up at
// its timeout, without sending. The caller holding the only slot waits until the test
// makes its deadline pass, so the slot is taken for as long as the second caller
// waits, however slow the machine.
func TestSlotSaturatedTimeout(t *testing.T) {
	agent, port := silentAgent(t)
	c := newClient(t, api.Config{Ports: []uint16{port}, MaxInFlight: 1, Timeout: patience})
	first := newDeadlineCtx()
	done := make(chan error, 1)
	go func() {
		_, err := c.GetHost(first, 1, 1)
		done <- err
	}()
	awaitRequests(t, agent, 1) // the first caller holds the slot
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.GetHost(ctx, 1, 1); err != api.ErrTimeout {
		t.Errorf("second caller: %v, want ErrTimeout", err)
	}
	first.pass()
	if err := <-done; err != api.ErrTimeout {
		t.Errorf("first caller: %v, want ErrTimeout", err)
	}
	if s := c.Stats(); s.Sent != 1 || s.Timeouts != 2 {
		t.Errorf("stats %+v, want the first request alone sent, and 2 timeouts", s)
	}
}
