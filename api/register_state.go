package api

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// RegState is where a registration stands, as the agent answers it: the protocol's
// RegisterState (codec/larspb/lars.proto).
type RegState int32

// The states of a registration.
const (
	// RegPending: the agent took it; the route service has not answered yet.
	RegPending RegState = iota
	// RegActive: in the route, with a lease the agent renews.
	RegActive
	// RegStatic: an operator wrote that host; it stays in the route as written.
	RegStatic
	// RegCheckFailing: its health check fails; withdrawn from the route until it
	// passes again, while the registration lasts.
	RegCheckFailing
	// RegRefused: not allowed, registration off, or a route service that does not
	// take registrations (the message says which). The registration has ended.
	RegRefused
	// RegRemoved: an operator removed it; it stays removed until the instance
	// registers anew (a new Register). The registration has ended.
	RegRemoved
	// RegGone: deregistered, the agent's answer to Close.
	RegGone
	// RegInvalid: a request the agent cannot take (port or address 0, ttl or check
	// out of range). The registration has ended.
	RegInvalid
)

// String returns the state's name in lower case, "check failing" for RegCheckFailing.
func (s RegState) String() string {
	switch s {
	case RegPending:
		return "pending"
	case RegActive:
		return "active"
	case RegStatic:
		return "static"
	case RegCheckFailing:
		return "check failing"
	case RegRefused:
		return "refused"
	case RegRemoved:
		return "removed"
	case RegGone:
		return "gone"
	case RegInvalid:
		return "invalid"
	}
	return "state " + strconv.Itoa(int(s))
}

// ended reports whether the agent ends a registration in state s: the owner stops
// keeping it alive.
func (s RegState) ended() bool {
	return s == RegRefused || s == RegRemoved || s == RegGone || s == RegInvalid
}

// RegStatus is what the agent last said of a registration.
type RegStatus struct {
	State RegState
	// Message is the agent's reason for RegRefused, RegInvalid and RegRemoved (and
	// for RegPending when the route service failed); empty otherwise.
	Message string
	// TTL is how long the agent keeps the registration without a keepalive.
	TTL time.Duration
	// Unanswered counts the keepalives in a row the agent has not answered (0 while
	// it answers): an agent down or restarting.
	Unanswered int
}

// RegisterError is the error of a registration the agent refused, found invalid or
// removed (State says which, Message why), or one still pending when Register's
// context ended. errors.Is matches it to ErrRegistrationRefused,
// ErrRegistrationInvalid or ErrRegistrationRemoved by its state, and a pending one
// to ErrTimeout or context.Canceled (Err).
type RegisterError struct {
	Agent        netip.AddrPort // the agent's address and port
	Modid, Cmdid int32
	Addr         netip.AddrPort // the instance
	State        RegState
	Message      string
	// Err is why the wait ended for a registration still pending (a deadline or a
	// cancellation); nil otherwise.
	Err error
}

// Error says which registration, at which agent, in which state and why.
func (e *RegisterError) Error() string {
	s := fmt.Sprintf("lars api: registration of %s for (%d, %d) at agent %s: %s",
		e.Addr, e.Modid, e.Cmdid, e.Agent, e.State)
	if e.State == RegPending {
		s = fmt.Sprintf("lars api: registration of %s for (%d, %d) at agent %s still pending", e.Addr, e.Modid, e.Cmdid, e.Agent)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

// Unwrap returns Err.
func (e *RegisterError) Unwrap() error { return e.Err }

// Is matches the sentinel of the error's state.
func (e *RegisterError) Is(target error) bool {
	switch e.State {
	case RegRefused:
		return target == ErrRegistrationRefused
	case RegInvalid:
		return target == ErrRegistrationInvalid
	case RegRemoved, RegGone:
		return target == ErrRegistrationRemoved
	}
	return false
}

// noAnswerError is Register's error when the agent never answered: err is
// ErrTimeout, context.Canceled or ErrAgentUnreachable.
func noAnswerError(agent netip.AddrPort, err error) error { return &noAnswer{agent: agent, err: err} }

// noAnswer is the error of noAnswerError; it unwraps to err.
type noAnswer struct {
	agent netip.AddrPort
	err   error
}

func (e *noAnswer) Error() string {
	switch {
	case errors.Is(e.err, ErrAgentUnreachable):
		return fmt.Sprintf("lars api: cannot register: agent at %s unreachable (nothing listens on its port, or no route to it)", e.agent)
	case errors.Is(e.err, context.Canceled):
		return fmt.Sprintf("lars api: agent at %s did not answer a registration before it was cancelled", e.agent)
	}
	hint := ""
	if !e.agent.Addr().IsLoopback() {
		hint = ", or one that takes them only from its own machine ([register] allow_remote)"
	}
	return fmt.Sprintf("lars api: agent at %s did not answer a registration: is it a Lars agent that does not take them%s?", e.agent, hint)
}

func (e *noAnswer) Unwrap() error { return e.err }
