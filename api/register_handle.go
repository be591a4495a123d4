package api

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
)

// Registration is an instance registered with the agent by Register. A goroutine of
// its own keeps it alive (REGISTER_KEEP every third of its ttl) until Close
// deregisters it, the client is closed, or the agent ends it (an operator removed
// the instance, or the registration is refused): then Done is closed and Err says
// why. Its methods are safe for concurrent use.
type Registration struct {
	c          *Client
	agent      netip.AddrPort
	addr       netip.AddrPort
	conn       *net.UDPConn // connected to agent, used by this registration only
	answerWait time.Duration
	onChange   func(RegStatus)
	timers     timerFunc

	// The request and its send state, owned by the goroutine that sends: Register's,
	// then run's.
	req   *pb.RegisterRequest
	buf   []byte
	seq   uint32 // of the last request sent
	acked uint32 // of the last answer taken
	told  bool   // OnChange has been called

	events   chan regEvent // from read
	stopRead chan struct{} // closed to stop read
	readDone chan struct{} // closed when read returns

	mu     sync.Mutex
	status RegStatus // guarded by mu
	err    error     // guarded by mu; set before done is closed

	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	done      chan struct{} // closed when run returns
	closeErr  error         // the deregistration's error; written before done is closed
}

// regEvent is what the socket's reader saw: an answer, or the agent's port refusing.
type regEvent struct {
	reply   regReply
	refused bool
}

// regReply is a RegisterReply for this registration.
type regReply struct {
	seq     uint32
	state   RegState
	message string
	ttl     time.Duration
}

// newRegistration returns the registration of req over conn and starts reading conn.
func newRegistration(c *Client, agent, addr netip.AddrPort, req *pb.RegisterRequest, conn *net.UDPConn, opts RegisterOptions) *Registration {
	r := &Registration{c: c, agent: agent, addr: addr, conn: conn, answerWait: c.timeout,
		onChange: opts.OnChange, timers: opts.timers, req: req,
		events: make(chan regEvent, 16), stopRead: make(chan struct{}), readDone: make(chan struct{}),
		closing: make(chan struct{}), done: make(chan struct{})}
	if r.timers == nil {
		r.timers = realTimer
	}
	if opts.answerWait > 0 {
		r.answerWait = opts.answerWait
	}
	r.status.TTL = time.Duration(req.TtlMs) * time.Millisecond
	go r.read()
	return r
}

// Agent returns the agent address and port the registration was made with.
func (r *Registration) Agent() netip.AddrPort { return r.agent }

// Addr returns the registered instance's address.
func (r *Registration) Addr() netip.AddrPort { return r.addr }

// Status returns what the agent last said of the registration.
func (r *Registration) Status() RegStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// State returns the registration's last known state.
func (r *Registration) State() RegState { return r.Status().State }

// Done returns a channel closed when the registration has ended: closed, or ended
// by the agent.
func (r *Registration) Done() <-chan struct{} { return r.done }

// Err returns nil while the registration lasts; once Done is closed, why it ended:
// a *RegisterError when the agent ended it (RegRemoved, RegRefused, RegInvalid),
// ErrRegistrationClosed after Close, ErrClosed after the client's Close.
func (r *Registration) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close deregisters the instance (REGISTER_DROP, waiting up to the client's timeout
// for the agent to confirm) and stops keeping it alive. It returns an error when the
// agent did not confirm (the registration then lasts at the agent until its ttl), or
// a *RegisterError when it answered that it keeps the registration (the agent's own
// INI registers that instance too). It returns nil when the registration had already
// ended. Close is idempotent.
func (r *Registration) Close() error {
	r.closeOnce.Do(func() { close(r.closing) })
	<-r.done
	return r.closeErr
}

// send sends the request with op and a new seq.
func (r *Registration) send(op pb.RegisterOp) error {
	r.seq++
	r.req.Seq, r.req.Op = r.seq, op
	b, err := codec.AppendFrame(r.buf[:0], codec.MsgRegisterRequest, r.req)
	if err != nil {
		return err
	}
	r.buf = b
	if _, err := r.conn.Write(b); err != nil {
		if isRefused(err) {
			return ErrAgentUnreachable
		}
		return err
	}
	return nil
}

// accept takes answer a when it answers a request sent since the last answer taken
// (an older one is stale news), and reports whether it did.
func (r *Registration) accept(a regReply) bool {
	if int32(a.seq-r.acked) <= 0 || int32(r.seq-a.seq) < 0 {
		r.c.stats.late.Add(1)
		return false
	}
	r.acked = a.seq
	r.update(func(s *RegStatus) {
		s.State, s.Message, s.Unanswered = a.state, a.message, 0
		if a.ttl > 0 {
			s.TTL = a.ttl
		}
	})
	return true
}

// update changes the status with f, and calls OnChange the first time and when that
// changed the state, the message, the ttl or whether the agent answers. Only the
// goroutine that sends calls it.
func (r *Registration) update(f func(*RegStatus)) {
	r.mu.Lock()
	old := r.status
	f(&r.status)
	s := r.status
	r.mu.Unlock()
	if r.onChange != nil && (!r.told || s.State != old.State || s.Message != old.Message ||
		(s.Unanswered == 0) != (old.Unanswered == 0) || s.TTL != old.TTL) {
		r.told = true
		r.onChange(s)
	}
}

// read reads the socket's answers into events until stopRead is closed or the
// socket is.
func (r *Registration) read() {
	defer close(r.readDone)
	buf := make([]byte, codec.MaxFrameSize+1)
	for {
		n, err := r.conn.Read(buf)
		var ev regEvent
		switch {
		case err == nil:
			a, ok := parseRegReply(buf[:n], r.req.Modid, r.req.Cmdid, r.req.Host.Ip, r.req.Host.Port)
			if !ok {
				r.c.stats.malformed.Add(1)
				continue
			}
			ev.reply = a
		case isRefused(err):
			ev.refused = true
		case errors.Is(err, net.ErrClosed):
			return
		default:
			time.Sleep(time.Millisecond) // an unexpected error must not spin the loop
			continue
		}
		select {
		case r.events <- ev:
		case <-r.stopRead:
			return
		}
	}
}

// parseRegReply parses datagram b as a RegisterReply for instance ip:port of key
// (modid, cmdid). It reports false for anything else: a bad frame or body, another
// msgid, another instance, or a state it does not know.
func parseRegReply(b []byte, modid, cmdid, ip, port int32) (regReply, bool) {
	id, body, reason := codec.ParseDatagram(b)
	if reason != codec.ReasonOK || id != codec.MsgRegisterReply {
		return regReply{}, false
	}
	var m pb.RegisterReply
	if m.UnmarshalVT(body) != nil {
		return regReply{}, false
	}
	if m.Modid != modid || m.Cmdid != cmdid || m.GetHost().GetIp() != ip || m.GetHost().GetPort() != port ||
		m.State < pb.RegisterState_REG_PENDING || m.State > pb.RegisterState_REG_INVALID {
		return regReply{}, false
	}
	return regReply{seq: m.Seq, state: RegState(m.State), message: m.Message,
		ttl: time.Duration(m.TtlMs) * time.Millisecond}, true
}

// stopReading stops the reader and closes the socket.
func (r *Registration) stopReading() {
	close(r.stopRead)
	r.conn.Close()
	<-r.readDone
}

// abandon ends a registration Register failed: the agent, when it took it in a state
// that lasts, is told to forget it (no answer awaited); the reader stops.
func (r *Registration) abandon() {
	if r.acked != 0 && !r.State().ended() {
		r.send(pb.RegisterOp_REGISTER_DROP)
	}
	r.stopReading()
	close(r.done)
}
