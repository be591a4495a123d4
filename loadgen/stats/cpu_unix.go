//go:build unix

package stats

import (
	"syscall"
	"time"
)

// ProcessCPU returns the CPU time (user and system) this process has used, and
// whether the system says it: a load generator's own cost, which on a shared machine
// is taken from the service it measures.
func ProcessCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
