//go:build !unix

package batchio

// msgTrunc is zero where the system reports no truncation flag.
const msgTrunc = 0
