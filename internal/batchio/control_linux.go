package batchio

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// control sets the options that must precede bind.
func (o ListenOptions) control(_, _ string, rc syscall.RawConn) error {
	if !o.ReusePort {
		return nil
	}
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("cannot set SO_REUSEPORT: %w", err)
	}
	return nil
}
