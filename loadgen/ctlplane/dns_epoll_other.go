//go:build !linux

package ctlplane

// pushReaders is Linux's epoll reader; elsewhere every connection has a goroutine.
type pushReaders struct{}

func newPushReaders(*dnsRun) *pushReaders    { return nil }
func (*pushReaders) add(int, *dnsAgent) bool { return false }
func (*pushReaders) close()                  {}
