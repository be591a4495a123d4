package chaos

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// The WAL index (the "-shm" file) of a SQLite database in WAL mode carries SQLite's
// locks as POSIX record locks on single bytes: from walLockOffset, the write lock, the
// checkpoint lock, the recovery lock and the five read marks (os_unix.c: UNIX_SHM_BASE,
// SQLITE_SHM_NLOCK). Byte walLockOffset+walLocks, the "dead man switch" every open
// connection holds shared, is left alone.
const (
	walLockOffset = 120
	walLocks      = 8
)

// lockWALIndex takes, for this process, an exclusive lock on every WAL lock of the
// SQLite WAL index at shm, as a process stuck inside the database would: no other
// process can then begin a read or a write. It waits for the transactions under way to
// end (within eventLimit) and returns the function that releases the locks; a lock still held
// when t ends is released then. The test process must not open the database itself
// meanwhile: closing any descriptor of a file drops the process's locks on it.
func lockWALIndex(t *testing.T, shm string) (unlock func()) {
	t.Helper()
	f, err := os.OpenFile(shm, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("cannot open the WAL index to lock it: %v", err)
	}
	lock := func(typ int16) error {
		return syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &syscall.Flock_t{
			Type: typ, Whence: 0, Start: walLockOffset, Len: walLocks})
	}
	deadline := time.Now().Add(eventLimit)
	for {
		err := lock(syscall.F_WRLCK)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			f.Close()
			t.Fatalf("cannot lock the WAL index %s within %v: %v", shm, eventLimit, err)
		}
		time.Sleep(time.Millisecond) // readers hold a read mark for one query only
	}
	var done bool
	unlock = func() {
		if done {
			return
		}
		done = true
		if err := lock(syscall.F_UNLCK); err != nil {
			t.Errorf("cannot unlock the WAL index %s: %v", shm, err)
		}
		f.Close()
	}
	t.Cleanup(unlock)
	return unlock
}
