//go:build windows

package stats

import (
	"syscall"
	"time"
)

// ProcessCPU returns the CPU time (user and system) this process has used, and
// whether the system says it: a load generator's own cost, which on a shared machine
// is taken from the service it measures.
func ProcessCPU() (time.Duration, bool) {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0, false
	}
	var creation, exit, kernel, user syscall.Filetime
	if syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user) != nil {
		return 0, false
	}
	return filetimeSpan(kernel) + filetimeSpan(user), true
}

// filetimeSpan reads a Filetime that holds a span, in units of 100ns.
func filetimeSpan(f syscall.Filetime) time.Duration {
	return time.Duration(int64(f.HighDateTime)<<32|int64(f.LowDateTime)) * 100
}
