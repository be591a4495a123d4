//go:build !linux

package store

// fileWrites is Linux's inotify watch; elsewhere the change signal is read on a timer.
type fileWrites struct{ ch chan struct{} }

func watchWrites(string) *fileWrites { return nil }
func (*fileWrites) close()           {}
