//go:build !linux && !darwin && !windows

package main

import (
	"errors"
	"os"
)

// echoOff cannot turn off a terminal's echo on this system: a password is never read
// from a terminal that would show it, so f being one is an error.
func echoOff(f *os.File) (restore func(), isTerminal bool, err error) {
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil, false, nil
	}
	return nil, true, errors.New("cannot turn off the terminal's echo on this system: give the password on stdin")
}
