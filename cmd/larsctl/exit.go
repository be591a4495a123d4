package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/larsgo/lars/api"
)

// Exit codes, listed in the usage text.
const (
	exitOK          = 0
	exitFailure     = 1 // any error without a code of its own
	exitUsage       = 2
	exitOverload    = 3
	exitNoExist     = 4
	exitSystem      = 5
	exitTimeout     = 6
	exitUnreachable = 7
)

// exitCode returns the exit code for a call's error.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, api.ErrOverload):
		return exitOverload
	case errors.Is(err, api.ErrNoExist):
		return exitNoExist
	case errors.Is(err, api.ErrSystem):
		return exitSystem
	case errors.Is(err, api.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return exitTimeout
	case errors.Is(err, api.ErrAgentUnreachable):
		return exitUnreachable
	}
	return exitFailure
}

// fail prints err as one line on stderr and returns its exit code.
func fail(stderr io.Writer, what string, err error) int {
	fmt.Fprintf(stderr, "larsctl: %s: %v\n", what, err)
	return exitCode(err)
}

// usageError is a bad command line: exit 2 with the usage text.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }
