//go:build linux || darwin

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// echoOff turns off the echo of the terminal f, keeping line editing and signals,
// and returns how to turn it back on. isTerminal is false, and nothing is done, when f
// is not a terminal.
func echoOff(f *os.File) (restore func(), isTerminal bool, err error) {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, false, nil
	}
	quiet := *t
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &quiet); err != nil {
		return nil, true, err
	}
	return func() { unix.IoctlSetTermios(fd, ioctlSetTermios, t) }, true, nil
}
