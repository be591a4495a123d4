//go:build !unix

package main

import "errors"

// fileLimit says that this system has no limit on open files to read: a run finds
// out by opening them.
func fileLimit() (soft, hard uint64, ok bool) { return 0, 0, false }

// setFileLimit fails: this system has no limit on open files to set.
func setFileLimit(uint64) error { return errors.New("no limit on open files to set") }
