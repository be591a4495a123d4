//go:build !unix && !windows

package stats

import "time"

// ProcessCPU returns the CPU time this process has used, and whether the system says
// it; this one does not.
func ProcessCPU() (time.Duration, bool) { return 0, false }
