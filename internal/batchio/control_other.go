//go:build !linux

package batchio

import (
	"errors"
	"syscall"
)

// errNoReusePort is returned when ReusePort is asked for where this package cannot set it.
var errNoReusePort = errors.New("SO_REUSEPORT is supported on linux only")

// control refuses ReusePort: without it each port has one socket.
func (o ListenOptions) control(_, _ string, _ syscall.RawConn) error {
	if o.ReusePort {
		return errNoReusePort
	}
	return nil
}
