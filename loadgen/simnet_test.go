package loadgen

import (
	"container/heap"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// simDeadline bounds every wait of a simNet for the load generator or the network:
// never reached on a working build, however busy the machine.
const simDeadline = 30 * time.Second

// simNet is a clock (see clock) and a scripted network for runs on simulated time.
// The load generator's sockets are real, but the time is the simNet's, and it moves
// only inside the sender's sleep, when nothing is under way: every datagram the run
// sent has been read by its fake agent (which stamps it with the simulated time, so
// with its send time), every answer written has been read and dealt with, every
// receiver is blocked on its read, and no socket that drives its own window is due
// for its sweep. Then the time jumps to the next thing due: a scripted answer, a
// socket's sweep, or the end of the sender's sleep. So every answer reaches the load
// generator exactly when its agent's script says, and a run's figures are the same
// on an idle machine and on one stalled for seconds.
//
// A proxy stands for a real server (the echo server, a real agent) instead of a fake
// agent: it forwards each datagram to the server, and the server's answer is due the
// proxy's delay after the request, whenever the server's answer really came: the time
// stands still until it has.
type simNet struct {
	t    testing.TB
	mu   sync.Mutex
	cond *sync.Cond
	vt   int64 // the simulated time, ns; it only grows, across runs too
	r    *runner
	busy int // receivers not blocked on a read

	// This run's datagrams: sent are counted by the run (counters), read by the fake
	// agents and proxies, written by them (answers), handled by the run's receivers.
	read, written, handled int64
	events                 eventHeap
	seq                    int64
	awaiting               int64 // requests forwarded by proxies, not yet answered

	broken bool // a wait ran out: stop waiting, let the run end
	wg     sync.WaitGroup
}

// newSimNet returns a simNet for fake agents and proxies (see agent and proxy); its
// goroutines end with the test.
func newSimNet(t testing.TB) *simNet {
	s := &simNet{t: t}
	s.cond = sync.NewCond(&s.mu)
	t.Cleanup(s.wg.Wait) // after the sockets' own cleanups, registered later
	return s
}

// config returns cfg to run on the simNet's time.
func (s *simNet) config(cfg Config) Config {
	cfg.clock = s
	return cfg
}

// event is an answer due at a simulated time, from an agent's socket.
type event struct {
	due, seq int64
	from     *net.UDPConn
	to       *net.UDPAddr
	data     []byte
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	return h[i].due < h[j].due || h[i].due == h[j].due && h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// schedule queues an answer due at due; the caller holds s.mu.
func (s *simNet) schedule(due int64, from *net.UDPConn, to *net.UDPAddr, data []byte) {
	s.seq++
	heap.Push(&s.events, event{due: due, seq: s.seq, from: from, to: to, data: data})
}

// sentBy returns the number of datagrams r put on the wire: requests and reports,
// less the ones sendmmsg skipped.
func sentBy(r *runner, kinds ...Kind) int64 {
	var t tally
	t.addCounters(&r.sc)
	for _, l := range r.lanes {
		t.addCounters(&l.c)
	}
	var n uint64
	for p := range t {
		for _, k := range kinds {
			n += t[p][fSent+int(k)]
		}
	}
	return int64(n)
}

func allSent(r *runner) int64 {
	var t tally
	t.addCounters(&r.sc)
	for _, l := range r.lanes {
		t.addCounters(&l.c)
	}
	return sentBy(r, KindGetHost, KindGetRoute, KindReport) - int64(t[phaseWarmup][fSendErrors]+t[phaseMeasured][fSendErrors])
}

// waitLocked waits, holding s.mu, until cond holds; after simDeadline it fails the
// test and stops waiting for good, so that the run still ends.
func (s *simNet) waitLocked(what string, cond func() bool) {
	if s.broken || cond() {
		return
	}
	deadline := time.Now().Add(simDeadline)
	tm := time.AfterFunc(simDeadline, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer tm.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			s.broken = true
			s.t.Errorf("simulated network: no %s within %v at %v: %s", what, simDeadline, time.Duration(s.vt), s.stateLocked())
			return
		}
		s.cond.Wait()
	}
}

func (s *simNet) stateLocked() string {
	return fmt.Sprintf("sent %d, read by the agents %d, awaited from servers %d, answers written %d, handled %d, busy receivers %d, answers due later %d",
		allSent(s.r), s.read, s.awaiting, s.written, s.handled, s.busy, len(s.events))
}

// settled reports, holding s.mu, whether nothing is under way (see simNet).
func (s *simNet) settled() bool {
	if s.busy != 0 || s.handled != s.written || s.awaiting != 0 {
		return false
	}
	return s.read == allSent(s.r) && s.lanesDueAt() > s.vt
}

// lanesDueAt returns the earliest sweep of the sockets that drive their own windows,
// in simulated time. The lanes wrote their drive state before their idle, under
// s.mu.
func (s *simNet) lanesDueAt() int64 {
	due := int64(1<<63 - 1)
	for _, l := range s.r.lanes {
		if d := l.drive; d != nil && d.sending {
			due = min(due, d.sweepAt+s.r.clkBase)
		}
	}
	return due
}

func (s *simNet) begin(r *runner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.r != nil { // the previous run's datagrams are all read before counting anew
		s.waitLocked("datagram of the previous run", func() bool { return s.read == allSent(s.r) && s.awaiting == 0 })
	}
	s.r, s.busy = r, len(r.lanes)
	s.read, s.written, s.handled, s.events = 0, 0, 0, nil
}

func (s *simNet) now() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vt
}

func (s *simNet) idle(n int) {
	s.mu.Lock()
	s.busy--
	s.handled += int64(n)
	s.cond.Broadcast()
	s.mu.Unlock()
}

func (s *simNet) wake() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy++
	return s.vt
}

// sleep moves the time to the first of: now+d, the next answer due, the next sweep of
// a socket that drives its window; delivers what is due then, and returns once the
// run has dealt with it.
func (s *simNet) sleep(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waitLocked("rest", s.settled)
	if s.broken { // the test failed already: let the time pass, so that the run ends
		s.vt += int64(max(d, 1))
		return
	}
	target := s.vt + int64(max(d, 1))
	if len(s.events) > 0 {
		target = min(target, max(s.events[0].due, s.vt))
	}
	target = min(target, s.lanesDueAt())
	// The lanes due for their sweep, read while every receiver is idle: once the
	// answers below are written, some are busy again.
	var sweeping []*lane
	for _, l := range s.r.lanes {
		if d := l.drive; d != nil && d.sending && d.sweepAt+s.r.clkBase <= target {
			sweeping = append(sweeping, l)
		}
	}
	s.vt = target
	// Wake those up first: a lane that the answers make stop driving clears its
	// deadline, which must come after this one.
	for _, l := range sweeping {
		l.conn.UDPConn().SetReadDeadline(time.Unix(1, 0))
	}
	for len(s.events) > 0 && s.events[0].due <= target {
		e := heap.Pop(&s.events).(event)
		if _, err := e.from.WriteToUDP(e.data, e.to); err != nil {
			s.t.Errorf("simulated network: %v", err)
			continue
		}
		s.written++
	}
	s.waitLocked("rest after the answers due", s.settled)
}
