//go:build unix

package main

import "syscall"

// fileLimit returns the soft and hard limits on the files the process may open, ok
// false when they cannot be read.
func fileLimit() (soft, hard uint64, ok bool) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0, 0, false
	}
	return uint64(lim.Cur), uint64(lim.Max), true
}

// setFileLimit sets the soft limit on the files the process may open.
func setFileLimit(soft uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	setLimit(&lim.Cur, soft)
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// setLimit sets a limit field, unsigned on some systems and signed on others.
func setLimit[T int64 | uint64](field *T, v uint64) { *field = T(v) }
