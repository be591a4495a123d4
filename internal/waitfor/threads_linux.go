package waitfor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ReadersBlocked waits, for up to within, until at least n threads of process pid
// are blocked in recvmmsg, as /proc/PID/task/TID/syscall shows, and fails t
// otherwise. Elsewhere than on Linux it returns at once: only Linux shows it.
func ReadersBlocked(t testing.TB, pid, n int, within time.Duration) {
	t.Helper()
	var got int
	if !Poll(within, func() bool { got = threadsIn(pid, unix.SYS_RECVMMSG); return got >= n }) {
		t.Fatalf("%d threads of process %d blocked in recvmmsg after %v, want %d", got, pid, within, n)
	}
}

// threadsIn counts the threads of process pid blocked in system call nr.
func threadsIn(pid int, nr uintptr) int {
	tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "syscall"))
	count := 0
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		first, _, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		if v, err := strconv.ParseUint(first, 10, 64); err == nil && uintptr(v) == nr {
			count++
		}
	}
	return count
}
