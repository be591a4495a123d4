//go:build !unix

package daemon

// raiseFileLimit has no open-file limit to raise where there are no rlimits
// (Windows): it returns 0, and the connection bound stays as -max-conns says.
func raiseFileLimit() (uint64, error) { return 0, nil }
