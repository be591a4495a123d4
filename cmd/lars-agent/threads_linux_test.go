package main

import (
	"golang.org/x/sys/unix"

	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// waitBlockedReaders waits, for up to patience, until at least n threads of process
// pid are blocked in recvmmsg.
func waitBlockedReaders(t *testing.T, pid, n int) { waitThreadsIn(t, pid, unix.SYS_RECVMMSG, n) }

// waitThreadsIn waits, for up to patience, until at least n threads of process pid are
// blocked in system call nr, as /proc/PID/task/TID/syscall shows.
func waitThreadsIn(t *testing.T, pid int, nr uintptr, n int) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		got := threadsIn(pid, nr)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d threads of process %d in system call %d, want %d", got, pid, nr, n)
		}
		time.Sleep(5 * time.Millisecond)
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
