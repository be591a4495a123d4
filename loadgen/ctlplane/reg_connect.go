package ctlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/larsgo/lars/codec"
)

// connectSubscribers opens the subscribers' connections, writes their pulls and
// waits until each has every key's route (or the setup timeout).
func (r *regRun) connectSubscribers(ctx context.Context) error {
	connected := r.dialAll(ctx, r.cfg.Subscribers, func(id int, nc net.Conn) {
		s := newRegSubscriber(r, nc)
		r.subscribers[id] = s
		pulls := s.pulls()
		s.pullAt = r.now()
		r.readers.Add(1)
		go s.readLoop()
		nc.Write(pulls) // a failed write ends the connection: the reader sees it
	})
	if connected == 0 {
		return fmt.Errorf("no subscriber could connect to %s (%d connection errors)", r.cfg.Target, r.dialErrors.Load())
	}
	r.waitFor(ctx, r.cfg.SetupTimeout, func() bool {
		return r.subscribersReadyN.Load()+r.subscribersClosed.Load() >= uint64(connected)
	})
	r.subscribersReady = int(r.subscribersReadyN.Load())
	return nil
}

// connectAgents opens the agents' connections and makes their Hello exchanges; the
// first refusal of registrations ends the run.
func (r *regRun) connectAgents(ctx context.Context) error {
	var refusal atomic.Pointer[error]
	connected := r.dialAll(ctx, r.cfg.Agents, func(id int, nc net.Conn) {
		a := &regAgent{run: r, id: id, nc: nc, sr: codec.NewStreamReader(nc, agentReadBuffer), cmds: make(chan regCmd, 16)}
		if err := a.helloExchange(r.cfg.SetupTimeout); err != nil {
			nc.Close()
			if errors.Is(err, errNoRegister) {
				refusal.CompareAndSwap(nil, &err)
			} else {
				r.dialErrors.Add(1)
			}
			return
		}
		r.agents[id] = a
		r.readers.Add(1)
		r.agentLoops.Add(1)
		go a.readLoop()
		go a.loop(r.stopLoops)
	})
	if p := refusal.Load(); p != nil {
		return fmt.Errorf("the route service at %s %w", r.cfg.Target, *p)
	}
	if connected == 0 {
		return fmt.Errorf("no agent could connect to %s (%d connection errors)", r.cfg.Target, r.dialErrors.Load())
	}
	return nil
}

// dialAll opens n connections, DialConcurrency at a time, and calls start for each
// opened (from several goroutines); it returns how many opened.
func (r *regRun) dialAll(ctx context.Context, n int, start func(id int, nc net.Conn)) int {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.SetupTimeout)
	defer cancel()
	ids := make(chan int)
	var connected atomic.Int64
	var wg sync.WaitGroup
	for range min(r.cfg.DialConcurrency, n) {
		wg.Go(func() {
			dial := (&Fleet{dial: r.cfg.dial}).dialer(r.cfg.DialTimeout)
			for id := range ids {
				nc, err := dial(ctx, "tcp", r.cfg.Target)
				if err != nil {
					r.dialErrors.Add(1)
					continue
				}
				connected.Add(1)
				start(id, nc)
			}
		})
	}
feed:
	for id := range n {
		select {
		case ids <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(ids)
	wg.Wait()
	return int(connected.Load())
}
