package ctlplane

import (
	"context"
	"net"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/loadgen/stats"
)

// repAgent is one simulated agent of a report service run: its connection and its
// rounds. Owned by its sender goroutine.
type repAgent struct {
	nc       net.Conn
	caller   int32
	slots    []int32
	round    uint32 // rounds written
	dead     bool   // the connection failed: nothing more is sent
	deadline int64  // the write deadline set last, ns since the epoch
}

// repSender writes the rounds of its share of the agents, paced, from one goroutine.
// A round is one ReportStatusRequest per key of the agent, in one write, as the agent
// sends its reports. Result i of every frame is host i; its succ count is the agent's
// round number (from the run's base), so the store can tell how many results of each
// row it holds.
type repSender struct {
	state   *repRun
	agents  []*repAgent
	msg     larspb.ReportStatusRequest
	results []*larspb.HostCallResult
	buf     []byte
	lag     stats.Histogram // how late each round was sent, ns
	timer   *time.Timer     // paces the rounds; reused
}

func newRepSender(r *repRun, agents []*repAgent) *repSender {
	s := &repSender{state: r, agents: agents, results: make([]*larspb.HostCallResult, r.cfg.Hosts)}
	for h := range s.results {
		s.results[h] = &larspb.HostCallResult{Ip: reportHostIPBase + int32(h), Port: reportHostPort}
	}
	s.msg.Results = s.results
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	return s
}

// appendRound appends agent a's round frames, with succ and ts, to dst. It does not
// allocate when dst has room.
func (s *repSender) appendRound(dst []byte, a *repAgent, succ, ts uint32) []byte {
	for _, r := range s.results {
		r.Succ = succ
	}
	s.msg.Caller, s.msg.Ts = a.caller, ts
	for _, slot := range a.slots {
		k := s.state.subs.keys[slot]
		s.msg.Modid, s.msg.Cmdid = k.Modid, k.Cmdid
		dst, _ = codec.AppendFrame(dst, codec.MsgReportStatusRequest, &s.msg) // under the frame limit: at most 1024 hosts
	}
	return dst
}

// run sends rounds from start (ns since the epoch), round i of this sender intended at
// start + i*interval and going to agent i % len(agents), until end (negative: none),
// the run's round budget or ctx. A late round is sent at once.
func (s *repSender) run(ctx context.Context, start, end int64, interval float64) {
	r := s.state
	for i := 0; ; i++ {
		at := start + int64(float64(i)*interval)
		if end >= 0 && at >= end {
			return
		}
		now := r.now()
		if now < at {
			if !s.sleep(ctx, time.Duration(at-now)) {
				return
			}
			now = r.now()
		}
		if ctx.Err() != nil || !r.claimRound() {
			return
		}
		a := s.agents[i%len(s.agents)]
		if a.dead {
			r.skippedRounds.Add(1)
			continue
		}
		s.lag.Add(now - at)
		s.buf = s.appendRound(s.buf[:0], a, r.base+a.round, r.unixAt(now))
		if err := s.write(a, now); err != nil {
			a.dead = true
			a.nc.Close()
			r.closedByService.Add(1)
			continue
		}
		a.round++
		r.framesSent.Add(uint64(len(a.slots)))
		r.resultsSent.Add(uint64(len(a.slots) * len(s.results)))
		r.bytesSent.Add(uint64(len(s.buf)))
	}
}

// write writes the buffer to a, moving the write deadline only when less than half of
// writeTimeout is left of it.
func (s *repSender) write(a *repAgent, now int64) error {
	if a.deadline-now < int64(writeTimeout/2) {
		a.deadline = now + int64(writeTimeout)
		if err := a.nc.SetWriteDeadline(s.state.epoch.Add(time.Duration(a.deadline))); err != nil {
			return err
		}
	}
	_, err := a.nc.Write(s.buf)
	return err
}

// sleep waits d on the sender's timer; false if ctx ended first.
func (s *repSender) sleep(ctx context.Context, d time.Duration) bool {
	s.timer.Reset(d)
	select {
	case <-ctx.Done():
		s.timer.Stop()
		return false
	case <-s.timer.C:
		return true
	}
}
