package api

import (
	"fmt"
	"time"

	pb "github.com/larsgo/lars/codec/larspb"
)

// run keeps the registration alive until Close, the client's Close or the agent
// ending it: a keepalive every third of the ttl while the agent answers a lasting
// state; while it answers RegPending or does not answer, one after pollMax, then
// twice as long each time up to a third of the ttl.
func (r *Registration) run() {
	next, retry := r.keepEvery(), time.Duration(0)
	for {
		if !r.sleep(next) || !r.keep() {
			break
		}
		if r.Status().Unanswered == 0 && r.State() != RegPending {
			next, retry = r.keepEvery(), 0
			continue
		}
		retry = min(max(2*retry, pollMax), r.keepEvery())
		next = retry
	}
	r.end()
}

// keepEvery returns how often to keep the registration alive: a third of its ttl.
func (r *Registration) keepEvery() time.Duration { return max(r.Status().TTL/3, time.Millisecond) }

// stopping reports whether Close or the client's Close asked the registration to end.
func (r *Registration) stopping() bool {
	select {
	case <-r.closing:
		return true
	case <-r.c.closing:
		return true
	default:
		return false
	}
}

// sleep waits for d on the registration's timer, taking the answers that come
// meanwhile, and reports whether the registration goes on: false when it is closed
// or the agent ended it.
func (r *Registration) sleep(d time.Duration) bool {
	fire, stop := r.timers(d)
	defer stop()
	for {
		select {
		case <-fire:
			return true
		case <-r.closing:
			return false
		case <-r.c.closing:
			return false
		case ev := <-r.events:
			if !ev.refused && r.accept(ev.reply) && r.State().ended() {
				return false
			}
		}
	}
}

// keep sends a keepalive and waits up to the client's timeout for its answer. It
// reports whether the registration goes on: false when it is closed or the agent
// ended it.
func (r *Registration) keep() bool {
	sent := r.seq + 1
	if r.send(pb.RegisterOp_REGISTER_KEEP) == nil {
		fire, stop := realTimer(r.answerWait)
		defer stop()
	wait:
		for {
			select {
			case <-fire:
				break wait
			case <-r.closing:
				return false
			case <-r.c.closing:
				return false
			case ev := <-r.events:
				if ev.refused {
					break wait // nothing listens: the agent is down or restarting
				}
				if !r.accept(ev.reply) {
					continue
				}
				if r.State().ended() {
					return false
				}
				if int32(r.acked-sent) >= 0 {
					return true
				}
			}
		}
	}
	r.update(func(s *RegStatus) { s.Unanswered++ })
	return true
}

// end ends the registration: deregistered when asked to stop, or ended by the agent;
// Done is closed.
func (r *Registration) end() {
	var err error
	switch {
	case r.State().ended():
		err = r.regErr(nil)
	case r.stopping():
		r.closeErr = r.deregister()
		err = ErrRegistrationClosed
		select {
		case <-r.c.closing:
			err = ErrClosed
		default:
		}
	}
	r.stopReading()
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	close(r.done)
}

// deregister sends REGISTER_DROP, again after 20 ms then twice as long each time up
// to 200 ms, until the agent answers one or the client's timeout passes. An answer
// other than RegGone is the agent keeping the registration (one of its INI's): a
// *RegisterError with its state and message.
func (r *Registration) deregister() error {
	first := r.seq + 1
	giveUp, stop := realTimer(r.answerWait)
	defer stop()
	poll := pollFirst
	for {
		if err := r.send(pb.RegisterOp_REGISTER_DROP); err != nil {
			return fmt.Errorf("lars api: cannot deregister %s at agent %s, it expires within its ttl: %w", r.addr, r.agent, err)
		}
		again, stopAgain := realTimer(poll)
		for again != nil {
			select {
			case <-giveUp:
				stopAgain()
				return fmt.Errorf("lars api: agent at %s did not confirm the deregistration of %s, which expires within its ttl (%w)",
					r.agent, r.addr, ErrTimeout)
			case <-again:
				again = nil
			case ev := <-r.events:
				if !ev.refused && r.accept(ev.reply) && int32(r.acked-first) >= 0 {
					stopAgain()
					if r.State() != RegGone {
						return r.regErr(nil)
					}
					return nil
				}
			}
		}
		poll = min(2*poll, pollMax)
	}
}
