package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestNewStoreFileMode: the SQLite store a route command creates is its owner's
// alone, or its group's too with -group-readable, even under a strict umask.
func TestNewStoreFileMode(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	for _, c := range []struct {
		flags []string
		want  fs.FileMode
	}{{nil, 0o600}, {[]string{"-group-readable"}, 0o640}} {
		path := filepath.Join(t.TempDir(), "lars.db")
		args := append(append([]string{}, c.flags...), "route", "add", "1", "1", "10.0.0.1", "80")
		if code, _, stderr := routectl("sqlite:"+path, nil, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != c.want {
			t.Errorf("%v: mode %o, want %o", c.flags, st.Mode().Perm(), c.want)
		}
	}
}
