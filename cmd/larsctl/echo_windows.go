package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// echoOff turns off the echo of the console f, keeping line input, and returns how to
// turn it back on. isTerminal is false, and nothing is done, when f is not a console.
func echoOff(f *os.File) (restore func(), isTerminal bool, err error) {
	h := windows.Handle(f.Fd())
	var mode uint32
	if err := windows.GetConsoleMode(h, &mode); err != nil {
		return nil, false, nil
	}
	quiet := mode&^windows.ENABLE_ECHO_INPUT | windows.ENABLE_PROCESSED_INPUT | windows.ENABLE_LINE_INPUT
	if err := windows.SetConsoleMode(h, quiet); err != nil {
		return nil, true, err
	}
	return func() { windows.SetConsoleMode(h, mode) }, true, nil
}
