package api

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strings"
	"time"

	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// Defaults of RegisterOptions.
const (
	// DefaultRegisterTTL is how long the agent keeps a registration that is not kept
	// alive; the Registration sends a keepalive every third of it.
	DefaultRegisterTTL = 10 * time.Second
	// DefaultCheckInterval is how often the agent runs a registration's health check
	// when CheckInterval is 0 (the agent's default, which it applies).
	DefaultCheckInterval = time.Second
)

// How Register polls an agent that answered RegPending: a keepalive after
// pollFirst, then twice as long each time up to pollMax. A Registration polls a
// pending state, or an agent that did not answer, from pollMax up to a third of the
// ttl.
const (
	pollFirst = 20 * time.Millisecond
	pollMax   = 200 * time.Millisecond
)

// RegisterOptions are a registration's options; the zero value registers with the
// default ttl and no health check.
type RegisterOptions struct {
	// TTL is how long the agent keeps the registration without a keepalive (the
	// process died); the Registration sends one every TTL/3. Zero:
	// DefaultRegisterTTL (10 s). The agent takes 1 s to 1 h.
	TTL time.Duration
	// Check is the health check the agent runs on the instance: "" none, "tcp" (a
	// connect to its address), or an http:// URL (a GET answered 2xx). An instance
	// failing it is withdrawn from the route (RegCheckFailing) until it passes.
	Check string
	// CheckInterval is how often the check runs. Zero: the agent's default,
	// DefaultCheckInterval (1 s). The agent takes 100 ms to 1 min.
	CheckInterval time.Duration
	// OnChange, if set, is called with the registration's status each time its
	// state or message changes, or the agent stops or starts answering keepalives:
	// from Register's goroutine until Register returns, then from the Registration's.
	// Calls never overlap; it must return promptly, and must not call Close.
	OnChange func(RegStatus)

	timers     timerFunc     // the keepalive timer; nil: time.NewTimer
	answerWait time.Duration // the wait for a keepalive's or a drop's answer; 0: the client's timeout
}

// timerFunc starts a timer of d: it returns the channel the time is sent on when it
// fires, and a function that stops it.
type timerFunc func(d time.Duration) (<-chan time.Time, func() bool)

// realTimer is a timerFunc of time.NewTimer.
func realTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// request checks the options and returns the REGISTER_NEW request they make for
// instance addr of key (modid, cmdid).
func (o RegisterOptions) request(modid, cmdid int32, addr netip.AddrPort) (*pb.RegisterRequest, error) {
	ip, ok := route.WireIP(addr.Addr())
	if !ok {
		return nil, fmt.Errorf("lars api: cannot register %s: only IPv4 instances can register", addr)
	}
	ttl := o.TTL
	if ttl == 0 {
		ttl = DefaultRegisterTTL
	}
	ttlMS, err := millis("TTL", ttl)
	if err != nil {
		return nil, err
	}
	intervalMS := uint32(0)
	if o.CheckInterval != 0 {
		if intervalMS, err = millis("CheckInterval", o.CheckInterval); err != nil {
			return nil, err
		}
	}
	switch {
	case o.Check == "" && o.CheckInterval != 0:
		return nil, fmt.Errorf("lars api: CheckInterval %v without a Check", o.CheckInterval)
	case o.Check != "" && o.Check != "tcp" && !strings.HasPrefix(o.Check, "http://"):
		return nil, fmt.Errorf("lars api: Check %q: want \"\", \"tcp\" or an http:// URL", o.Check)
	}
	return &pb.RegisterRequest{Modid: modid, Cmdid: cmdid, Host: &pb.HostInfo{Ip: ip, Port: int32(addr.Port())},
		TtlMs: ttlMS, Op: pb.RegisterOp_REGISTER_NEW, Check: o.Check, CheckIntervalMs: intervalMS}, nil
}

// millis returns d in whole milliseconds for the wire, or an error when it cannot be
// carried: negative, under a millisecond, or over math.MaxUint32 milliseconds.
func millis(name string, d time.Duration) (uint32, error) {
	if d < time.Millisecond || d.Milliseconds() > math.MaxUint32 {
		return 0, fmt.Errorf("lars api: %s %v: want 1ms to %v", name, d, time.Duration(math.MaxUint32)*time.Millisecond)
	}
	return uint32(d.Milliseconds()), nil
}

// Register registers instance addr (an IPv4 address and port) of service key
// (modid, cmdid) with the agent, on the agent port the key's requests go to (Port),
// over a socket of its own. It sends REGISTER_NEW and, while the agent answers
// RegPending (the route service has not answered yet), polls it again after 20 ms,
// then twice as long each time up to 200 ms, until:
//
//   - the state is RegActive, RegStatic or RegCheckFailing (the agent holds the
//     registration and runs its check): Register returns a Registration that keeps
//     it alive until Close;
//   - the state is RegRefused, RegInvalid or RegRemoved: a *RegisterError with the
//     agent's message, matching ErrRegistrationRefused, ErrRegistrationInvalid or
//     ErrRegistrationRemoved;
//   - the agent has not answered within the client's timeout, or before ctx ends:
//     an error saying so, matching ErrTimeout (context.Canceled when ctx was
//     cancelled), or ErrAgentUnreachable when nothing listens on the port. A Lars
//     agent drops registrations unanswered;
//   - ctx ends while the state is still RegPending: a *RegisterError in RegPending
//     matching ErrTimeout or context.Canceled; the agent is told to forget it;
//   - the client is closed meanwhile: ErrClosed.
//
// Closing the client also ends its registrations (each deregisters in the
// background); close a Registration to wait for its deregistration.
func (c *Client) Register(ctx context.Context, modid, cmdid int32, addr netip.AddrPort, opts RegisterOptions) (*Registration, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxErr(err)
	}
	req, err := opts.request(modid, cmdid, addr)
	if err != nil {
		return nil, err
	}
	agent := netip.AddrPortFrom(c.agent, c.Port(modid, cmdid))
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(agent))
	if err != nil {
		return nil, fmt.Errorf("lars api: cannot open a socket to agent %s: %w", agent, err)
	}
	r := newRegistration(c, agent, addr, req, conn, opts)
	if err := r.settle(ctx); err != nil {
		r.abandon()
		return nil, err
	}
	go r.run()
	return r, nil
}

// settle sends REGISTER_NEW and polls until the agent's answer is not RegPending; see
// Register.
func (r *Registration) settle(ctx context.Context) error {
	answered := false
	noAnswer, stop := realTimer(r.c.timeout)
	defer stop()
	poll := pollFirst
	next, stopNext := realTimer(poll)
	defer func() { stopNext() }()
	if err := r.send(pb.RegisterOp_REGISTER_NEW); err != nil {
		return noAnswerError(r.agent, err)
	}
	for {
		select {
		case <-r.c.closing:
			return ErrClosed
		case <-ctx.Done():
			err := ctxErr(ctx.Err())
			if !answered {
				return noAnswerError(r.agent, err)
			}
			return r.regErr(err)
		case <-noAnswer:
			if !answered {
				return noAnswerError(r.agent, ErrTimeout)
			}
		case ev := <-r.events:
			if ev.refused {
				if !answered {
					return noAnswerError(r.agent, ErrAgentUnreachable)
				}
				continue
			}
			if !r.accept(ev.reply) {
				continue
			}
			answered = true
			if st := r.State(); st.ended() {
				return r.regErr(nil)
			} else if st != RegPending {
				return nil
			}
		case <-next:
			op := pb.RegisterOp_REGISTER_KEEP
			if !answered {
				op = pb.RegisterOp_REGISTER_NEW // not taken yet: ask anew
			}
			if err := r.send(op); err != nil && !answered {
				return noAnswerError(r.agent, err)
			}
			poll = min(2*poll, pollMax)
			next, stopNext = realTimer(poll)
		}
	}
}

// regErr returns the *RegisterError of the registration's status, with err as the
// reason a pending one's wait ended.
func (r *Registration) regErr(err error) error {
	s := r.Status()
	return &RegisterError{Agent: r.agent, Modid: r.req.Modid, Cmdid: r.req.Cmdid, Addr: r.addr,
		State: s.State, Message: s.Message, Err: err}
}
