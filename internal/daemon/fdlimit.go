package daemon

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// connReserve is the file descriptors kept, out of the process's limit, for all but the
// agents' connections: the store's pool, the admin endpoint, logs, listeners.
const connReserve = 256

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

// connsAllowed is how many agent connections a process whose open-file limit is limit
// can hold beside connReserve other descriptors (half the limit when it is small), at
// most ceiling.
func connsAllowed(limit uint64, ceiling int) int {
	n := limit / 2
	if limit > 2*connReserve {
		n = limit - connReserve
	}
	if n < 1 {
		n = 1
	}
	if n > uint64(ceiling) {
		return ceiling
	}
	return int(n)
}
