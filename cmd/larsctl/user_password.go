package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// readPassword reads a password: on a terminal, asked for twice on stderr without
// echo; otherwise the first line of stdin (without its line end).
func (e *env) readPassword() (string, error) {
	if f, ok := e.stdin.(*os.File); ok {
		restore, isTerminal, err := echoOff(f)
		if isTerminal {
			if err != nil {
				return "", err
			}
			defer restore() // best effort: the terminal as it was
			return e.promptPassword(f)
		}
	}
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef("no password on stdin: give it as the first line")
	}
	return line, nil
}

// promptPassword asks for the password twice on the terminal f, its echo off.
func (e *env) promptPassword(f *os.File) (string, error) {
	r := bufio.NewReader(f)
	var pw [2]string
	for i, prompt := range []string{"Password: ", "Again: "} {
		fmt.Fprint(e.stderr, prompt)
		line, err := r.ReadString('\n')
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		pw[i] = strings.TrimRight(line, "\r\n")
	}
	if pw[0] != pw[1] {
		return "", errPasswordsDiffer
	}
	return pw[0], nil
}
