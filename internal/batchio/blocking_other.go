//go:build !linux

package batchio

// ListenBlocking returns an ordinary Conn on a ListenUDP socket: outside Linux there is
// no blocking recvmmsg to wait in, so the goroutine parks in the netpoller.
func ListenBlocking(network, addr string, opts ListenOptions) (*Conn, error) {
	return listenPoll(network, addr, opts)
}

// blockingFD is never set outside Linux.
type blockingFD struct{}

func (b *blockingFD) close() error { return nil }

func (b *blockingFD) closed() bool { return false }
