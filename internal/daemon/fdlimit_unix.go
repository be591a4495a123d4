//go:build linux || darwin

package daemon

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// raiseFileLimit raises the soft limit on open files to the hard limit and returns the
// soft limit in force afterwards (the one it found when raising it failed).
func raiseFileLimit() (uint64, error) {
	var l unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("reading the open-file limit: %w", err)
	}
	if l.Cur >= l.Max {
		return l.Cur, nil
	}
	raised := unix.Rlimit{Cur: l.Max, Max: l.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &raised); err != nil {
		return l.Cur, fmt.Errorf("raising the open-file limit from %d to %d: %w", l.Cur, l.Max, err)
	}
	return l.Max, nil
}
