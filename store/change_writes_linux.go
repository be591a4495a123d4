package store

import (
	"bytes"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fileWrites tells of writes to a SQLite database's files (the database, its WAL and
// journal) through inotify on their directory: no cost while nothing is written.
type fileWrites struct {
	f    *os.File // the inotify descriptor, read through Go's poller
	ch   chan struct{}
	done chan struct{}
}

// watchWrites watches the files of the database at path; nil if path is "" or
// inotify cannot be had (too many instances, a file system without it).
func watchWrites(path string) *fileWrites {
	if path == "" {
		return nil
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil
	}
	dir, base := filepath.Split(filepath.Clean(path))
	if dir == "" {
		dir = "."
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_MODIFY|unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_CLOSE_WRITE); err != nil {
		unix.Close(fd)
		return nil
	}
	w := &fileWrites{f: os.NewFile(uintptr(fd), "inotify"), ch: make(chan struct{}, 1), done: make(chan struct{})}
	go w.run([]byte(base))
	return w
}

// run reads inotify events until the descriptor is closed, and tells of those on a
// file whose name begins with the database's (lars.db, lars.db-wal, lars.db-journal).
func (w *fileWrites) run(base []byte) {
	defer close(w.done)
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : min(off+unix.SizeofInotifyEvent+int(ev.Len), n)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if bytes.HasPrefix(name, base) || ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				select {
				case w.ch <- struct{}{}:
				default: // one pending is enough
				}
			}
		}
	}
}

// close stops the watch; nil does nothing.
func (w *fileWrites) close() {
	if w == nil {
		return
	}
	w.f.Close()
	<-w.done
}
