//go:build unix

package ctlplane

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) this process has used: the load
// generator's own cost, which on a shared machine is taken from the service.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
