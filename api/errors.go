package api

import (
	"context"
	"errors"
)

// Errors GetHost, GetRoute, RegInit and Report return; callers branch on them with
// errors.Is.
var (
	// ErrOverload is the agent's RET_OVERLOAD (1): every host of the key is
	// overloaded and this call was not chosen as a probe.
	ErrOverload = errors.New("lars api: every host of the key is overloaded")
	// ErrSystem is the agent's RET_SYSTEM_ERROR (2), also returned for an unknown
	// retcode or an answer that names another key than the request.
	ErrSystem = errors.New("lars api: agent system error")
	// ErrNoExist is the agent's RET_NOEXIST (3): the agent knows no host for the key
	// (yet). RegInit returns it when the route stays empty.
	ErrNoExist = errors.New("lars api: no host known for the key")
	// ErrAgentUnreachable means the agent refused the datagram: nothing listens on
	// its port (an ICMP port unreachable reported as ECONNREFUSED on the socket).
	ErrAgentUnreachable = errors.New("lars api: agent unreachable (connection refused)")
	// ErrClosed is returned by calls on a closed Client, and to calls still waiting
	// when it is closed.
	ErrClosed = errors.New("lars api: client closed")
	// ErrTimeout means no answer came within the call's timeout or before the
	// context's deadline; the datagram or its answer may have been lost. It also
	// matches context.DeadlineExceeded with errors.Is.
	ErrTimeout error = timeoutError{}
)

// Errors of registrations (Register, Registration.Err); a *RegisterError matches the
// first three with errors.Is by the state the agent answered.
var (
	// ErrRegistrationRefused: the agent answered RegRefused (not allowed, registration
	// off, or a route service that does not take registrations).
	ErrRegistrationRefused = errors.New("lars api: registration refused")
	// ErrRegistrationInvalid: the agent answered RegInvalid (port or address 0, ttl or
	// check out of range).
	ErrRegistrationInvalid = errors.New("lars api: registration invalid")
	// ErrRegistrationRemoved: the agent answered RegRemoved (an operator removed the
	// instance) or RegGone (it no longer has the registration).
	ErrRegistrationRemoved = errors.New("lars api: registration removed")
	// ErrRegistrationClosed is Registration.Err after Close.
	ErrRegistrationClosed = errors.New("lars api: registration closed")
)

// timeoutError is the type of ErrTimeout: a net.Error-style timeout that also matches
// context.DeadlineExceeded.
type timeoutError struct{}

func (timeoutError) Error() string   { return "lars api: agent did not answer in time" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// Is makes errors.Is(ErrTimeout, context.DeadlineExceeded) true.
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// retcodeErr returns the error for a GetHostResponse retcode, nil for RET_SUCC.
func retcodeErr(code int32) error {
	switch code {
	case 0:
		return nil
	case 1:
		return ErrOverload
	case 3:
		return ErrNoExist
	}
	return ErrSystem
}
