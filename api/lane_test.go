package api_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
)

// sameLaneKey is a key whose requests go to the same agent port as key (1, 1) of a
// 3-port agent: (1 + 4) mod 3 == (1 + 1) mod 3.
const sameLaneKey = 4

// TestLostAnswerTimesOutWhileOthersArrive loses the answer of a caller that reads the
// socket (it called first, alone): it times out at its deadline, while the answers of
// another caller on the same port keep arriving, first read by it, then by whoever
// reads after it.
func TestLostAnswerTimesOutWhileOthersArrive(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, 5*time.Second)
	a.SetRoute(1, 1, hostFor(1, 1))
	a.SetRoute(1, sameLaneKey, hostFor(1, sameLaneKey))
	a.DropNext(1)
	const deadline = 80 * time.Millisecond
	lost := make(chan error, 1)
	var took time.Duration
	go func() {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		_, err := c.GetHost(ctx, 1, 1)
		took = time.Since(start)
		lost <- err
	}()
	if !waitFor(func() bool { return c.Stats().Sent == 1 }) {
		t.Fatal("the first request was not sent")
	}
	var calls int
	for {
		h, err := c.GetHost(context.Background(), 1, sameLaneKey)
		if err != nil || h != hostFor(1, sameLaneKey) {
			t.Fatalf("other caller's call %d = %v, %v", calls, h, err)
		}
		calls++
		select {
		case err := <-lost:
			if !errors.Is(err, api.ErrTimeout) {
				t.Fatalf("lost answer: %v, want ErrTimeout", err)
			}
			if took < deadline || took > prompt {
				t.Fatalf("lost answer gave up after %v, want about %v", took, deadline)
			}
			if calls < 2 {
				t.Fatalf("only %d answers arrived for the other caller meanwhile", calls)
			}
			for range 10 { // and after it: somebody still reads the port
				if h, err := c.GetHost(context.Background(), 1, sameLaneKey); err != nil || h != hostFor(1, sameLaneKey) {
					t.Fatalf("call after the timeout = %v, %v", h, err)
				}
			}
			if s := c.Stats(); s.Timeouts != 1 || s.Late != 0 || s.Malformed != 0 {
				t.Fatalf("stats %+v", s)
			}
			return
		default:
		}
	}
}

// TestLeaderTimeoutHandsOver has the caller reading the socket time out while another
// caller's answer is still on its way: the socket is handed over and that answer
// reaches its caller.
func TestLeaderTimeoutHandsOver(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, 5*time.Second)
	a.SetRoute(1, 1, hostFor(1, 1))
	a.SetRoute(1, sameLaneKey, hostFor(1, sameLaneKey))
	a.DropNext(1)
	lost := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		_, err := c.GetHost(ctx, 1, 1)
		lost <- err
	}()
	if !waitFor(func() bool { return c.Stats().Sent == 1 }) {
		t.Fatal("the first request was not sent")
	}
	a.DelayNext(1, 150*time.Millisecond) // answered well after the first caller gives up
	start := time.Now()
	h, err := c.GetHost(context.Background(), 1, sameLaneKey)
	if err != nil || h != hostFor(1, sameLaneKey) {
		t.Fatalf("second caller = %v, %v", h, err)
	}
	if d := time.Since(start); d > prompt {
		t.Fatalf("second caller waited %v for an answer delayed 150ms", d)
	}
	if err := <-lost; !errors.Is(err, api.ErrTimeout) {
		t.Fatalf("first caller = %v, want ErrTimeout", err)
	}
	if s := c.Stats(); s.Timeouts != 1 || s.Received != 1 || s.Late != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestManyCallersNoCrossedAnswers runs 1,000 goroutines of 100 calls each on one
// client, each on keys of its own, and checks that nobody ever gets an answer meant
// for someone else. Loopback drops datagrams under this load (about 2% of them here,
// when a socket's receive buffer overflows; the reader of a single socket per port
// drops as many): a call that times out is retried, and the late answer it may draw
// must not reach anyone.
func TestManyCallersNoCrossedAnswers(t *testing.T) {
	const callers, calls = 1000, 100
	a := startAgent(t)
	c := clientOf(t, a, time.Second)
	for g := range int32(callers) {
		for k := range int32(3) {
			a.SetRoute(g, k, hostFor(g, k))
		}
	}
	var wg sync.WaitGroup
	var retries atomic.Int64
	errs := make(chan error, callers)
	giveUp := time.Now().Add(time.Minute)
	for g := range int32(callers) {
		wg.Go(func() {
			for i := range int32(calls) {
				k := i % 3
				h, err := c.GetHost(context.Background(), g, k)
				for errors.Is(err, api.ErrTimeout) && time.Now().Before(giveUp) {
					retries.Add(1)
					h, err = c.GetHost(context.Background(), g, k)
				}
				if err == nil && h != hostFor(g, k) {
					err = fmt.Errorf("caller %d got %v for key (%d, %d), want %v", g, h, g, k, hostFor(g, k))
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
	if s.Malformed != 0 || s.Timeouts != uint64(retries.Load()) || s.Received-s.Late != callers*calls {
		t.Errorf("stats %+v, %d retries", s, retries.Load())
	}
	if r := retries.Load(); r > callers*calls/5 {
		t.Errorf("%d of %d calls timed out", r, callers*calls)
	}
}
