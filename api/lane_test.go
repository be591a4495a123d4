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
	"github.com/larsgo/lars/codec"
)

// sameLaneKey is a key whose requests go to the same agent port as key (1, 1) of a
// 3-port agent: (1 + 4) mod 3 == (1 + 1) mod 3.
const sameLaneKey = 4

// TestLostAnswerTimesOutWhileOthersArrive loses the answer of a caller that reads the
// socket (it called first, alone): it waits while the answers of another caller on the
// same port keep arriving, read by it and handed over, then times out at its deadline,
// and whoever reads after it keeps the answers coming. The lost caller's deadline
// passes when the test has seen those answers, not after a fixed time.
func TestLostAnswerTimesOutWhileOthersArrive(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	a.SetRoute(1, 1, hostFor(1, 1))
	a.SetRoute(1, sameLaneKey, hostFor(1, sameLaneKey))
	a.DropNext(1)
	ctx := newDeadlineCtx()
	lost := make(chan error, 1)
	go func() {
		_, err := c.GetHost(ctx, 1, 1)
		lost <- err
	}()
	if !waitFor(func() bool { return c.Stats().Sent == 1 }) {
		t.Fatal("the first request was not sent")
	}
	for i := range 10 { // while the lost caller waits
		if h, err := c.GetHost(context.Background(), 1, sameLaneKey); err != nil || h != hostFor(1, sameLaneKey) {
			t.Fatalf("other caller's call %d = %v, %v", i, h, err)
		}
	}
	select {
	case err := <-lost:
		t.Fatalf("the lost caller returned %v before its deadline", err)
	default:
	}
	ctx.pass()
	if err := <-lost; !errors.Is(err, api.ErrTimeout) {
		t.Fatalf("lost answer: %v, want ErrTimeout", err)
	}
	for range 10 { // and after it: somebody still reads the port
		if h, err := c.GetHost(context.Background(), 1, sameLaneKey); err != nil || h != hostFor(1, sameLaneKey) {
			t.Fatalf("call after the timeout = %v, %v", h, err)
		}
	}
	if s := c.Stats(); s.Timeouts != 1 || s.Late != 0 || s.Malformed != 0 || s.Received != 20 {
		t.Fatalf("stats %+v, want 1 timeout and the 20 answers received", s)
	}
}

// TestLeaderTimeoutHandsOver has the caller reading the socket time out while another
// caller's answer is still on its way: the socket is handed over and that answer
// reaches its caller. The agent holds that answer until the first caller has given
// up, so it is still on its way then however slow the machine is; without the
// handover its caller would wait out the client's timeout (patience) and fail.
func TestLeaderTimeoutHandsOver(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	a.SetRoute(1, 1, hostFor(1, 1))
	a.SetRoute(1, sameLaneKey, hostFor(1, sameLaneKey))
	a.DropNext(1)
	ctx := newDeadlineCtx()
	lost := make(chan error, 1)
	go func() {
		_, err := c.GetHost(ctx, 1, 1)
		lost <- err
	}()
	if !waitFor(func() bool { return c.Stats().Sent == 1 }) {
		t.Fatal("the first request was not sent")
	}
	a.HoldNext(1)
	type result struct {
		h   api.Host
		err error
	}
	second := make(chan result, 1)
	go func() {
		h, err := c.GetHost(context.Background(), 1, sameLaneKey)
		second <- result{h, err}
	}()
	if !waitFor(func() bool { return a.Count(codec.MsgGetHostRequest) == 2 }) {
		t.Fatal("the second request did not reach the agent")
	}
	ctx.pass()
	if err := <-lost; !errors.Is(err, api.ErrTimeout) {
		t.Fatalf("first caller = %v, want ErrTimeout", err)
	}
	a.Release()
	if r := <-second; r.err != nil || r.h != hostFor(1, sameLaneKey) {
		t.Fatalf("second caller = %v, %v", r.h, r.err)
	}
	if s := c.Stats(); s.Timeouts != 1 || s.Received != 1 || s.Late != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestManyCallersNoCrossedAnswers runs 1,000 goroutines of 100 calls each on one
// client, each on keys of its own, and checks that nobody ever gets an answer meant
// for someone else. Loopback drops datagrams under this load (about 2% of them here,
// when a socket's receive buffer overflows; the reader of a single socket per port
// drops as many), and a busy machine makes some answers come after the 1 s timeout:
// a call that times out is retried (for up to patience), and the late answer it may
// draw must not reach anyone. How many calls time out depends on the machine, so it
// is not judged; that every call is answered right, and every answer is accounted
// for, is.
func TestManyCallersNoCrossedAnswers(t *testing.T) {
	const callers, calls = 1000, 100
	a := startAgent(t)
	c := clientOf(t, a, time.Second) // short: a lost datagram costs a retry, not patience
	for g := range int32(callers) {
		for k := range int32(3) {
			a.SetRoute(g, k, hostFor(g, k))
		}
	}
	var wg sync.WaitGroup
	var retries atomic.Int64
	errs := make(chan error, callers)
	for g := range int32(callers) {
		wg.Go(func() {
			for i := range int32(calls) {
				k := i % 3
				giveUp := time.Now().Add(patience)
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
	t.Logf("%d of %d calls timed out and were retried", retries.Load(), callers*calls)
}
