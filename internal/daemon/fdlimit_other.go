//go:build !linux && !darwin

package daemon

// raiseFileLimit leaves the open-file limit alone where the daemons do not read
// rlimits (Windows has none): it returns 0, and the connection bound stays as
// -max-conns says.
func raiseFileLimit() (uint64, error) { return 0, nil }
