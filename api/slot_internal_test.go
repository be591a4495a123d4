package api

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// newSlotClient returns a client of n slots with 3 agent ports (nothing is sent).
func newSlotClient(t *testing.T, n int) *Client {
	t.Helper()
	c, err := New(Config{Ports: []uint16{1, 2, 3}, MaxInFlight: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// freeSlots counts the slots nobody owns: in the free channel or kept by a lane.
func freeSlots(c *Client) int {
	n := len(c.free)
	for i := range c.lanes {
		if c.lanes[i].hot.Load() != 0 {
			n++
		}
	}
	return n
}

// TestKeptSlotServesAnotherPort checks that a slot a port's lane keeps for its next
// caller is not lost to the others: with every other slot taken, a caller on another
// port gets it at once instead of waiting for a slot.
func TestKeptSlotServesAnotherPort(t *testing.T) {
	c := newSlotClient(t, 2)
	ctx := context.Background()
	a, err := c.acquire(ctx, 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.release(0, a)
	if c.lanes[0].hot.Load() != a+1 {
		t.Fatalf("port 0's lane keeps %d, want slot %d + 1", c.lanes[0].hot.Load(), a)
	}
	b, err := c.acquire(ctx, 1, time.Second)
	if err != nil || b == a {
		t.Fatalf("second slot: %d, %v, want the one in the channel", b, err)
	}
	k, err := c.acquire(ctx, 2, time.Second) // nothing is released: waiting would time out
	if err != nil || k != a {
		t.Fatalf("third caller got %d, %v, want slot %d", k, err, a)
	}
	// Released while the channel is empty, a slot goes to the channel, where a caller
	// waiting for one would be.
	c.release(1, b)
	if len(c.free) != 1 || c.lanes[1].hot.Load() != 0 {
		t.Fatalf("released with the channel empty: channel %d, kept %d, want it in the channel",
			len(c.free), c.lanes[1].hot.Load())
	}
	c.release(2, k)
	if n := freeSlots(c); n != 2 {
		t.Fatalf("%d free slots, want 2", n)
	}
}

// TestSlotsUnderChurn runs many goroutines taking and giving back slots on random
// ports, more than there are slots: nobody waits out its timeout while slots are free
// (each holds one briefly), and at the end every slot is free again, none lost or
// given twice.
func TestSlotsUnderChurn(t *testing.T) {
	const slots, goroutines, rounds = 4, 16, 2000
	c := newSlotClient(t, slots)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		owned = map[uint32]bool{}
	)
	for range goroutines {
		wg.Go(func() {
			for range rounds {
				p := rand.IntN(len(c.lanes))
				i, err := c.acquire(context.Background(), p, patience)
				if err != nil {
					t.Errorf("acquire on port %d: %v", p, err)
					return
				}
				mu.Lock()
				if owned[i] {
					t.Errorf("slot %d given to two callers", i)
				}
				owned[i] = true
				mu.Unlock()
				if rand.IntN(8) == 0 {
					time.Sleep(10 * time.Microsecond)
				}
				mu.Lock()
				delete(owned, i)
				mu.Unlock()
				c.release(p, i)
			}
		})
	}
	wg.Wait()
	if n := freeSlots(c); n != slots {
		t.Fatalf("%d free slots at the end, want %d", n, slots)
	}
}

// TestSlotWaitEnds checks every way a caller waiting for a free slot stops waiting
// when none is released: the client's timeout (ErrTimeout), its context cancelled
// (context.Canceled), each counted as a timeout, and the client closing (ErrClosed).
func TestSlotWaitEnds(t *testing.T) {
	c, err := New(Config{Ports: []uint16{1, 2, 3}, MaxInFlight: 1, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.tryAcquire(0); !ok { // the only slot: every call now waits for it
		t.Fatal("no free slot in a new client")
	}

	if _, err := c.GetHost(context.Background(), 1, 1); err != ErrTimeout {
		t.Errorf("past the client's timeout: %v, want ErrTimeout", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	c.timeout = time.Hour // only the cancellation can end this wait
	if _, err := c.GetHost(ctx, 1, 1); err != context.Canceled {
		t.Errorf("context cancelled: %v, want context.Canceled", err)
	}
	if n := c.Stats().Timeouts; n != 2 {
		t.Errorf("%d timeouts counted, want 2", n)
	}

	done := make(chan error, 1)
	go func() {
		_, err := c.GetHost(context.Background(), 1, 1)
		done <- err
	}()
	// Close once it waits for a slot (a Close before the wait is ErrClosed too).
	if !waitUntil(func() bool { return goroutinesIn("api.(*Client).awaitSlot") == 1 }) {
		t.Fatal("the caller does not wait for a slot")
	}
	c.Close()
	select {
	case err := <-done:
		if err != ErrClosed {
			t.Errorf("client closed: %v, want ErrClosed", err)
		}
	case <-time.After(patience):
		t.Fatal("a caller waiting for a slot did not notice Close")
	}
}
