//go:build unix

package batchio

import "syscall"

// msgTrunc is the flag with which the portable read reports a truncated datagram.
const msgTrunc = syscall.MSG_TRUNC
