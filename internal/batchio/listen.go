package batchio

import (
	"context"
	"fmt"
	"net"
)

// ListenOptions are socket options for ListenUDP and DialUDP. The zero value keeps the
// system defaults.
type ListenOptions struct {
	// ReusePort sets SO_REUSEPORT, so that several sockets can bind one port and the
	// kernel spreads datagrams over them (Linux and BSD-like systems).
	ReusePort bool
	// RecvBuf and SendBuf, when positive, set SO_RCVBUF and SO_SNDBUF in bytes
	// (capped by the system, on Linux by net.core.rmem_max and wmem_max).
	RecvBuf, SendBuf int
}

// ListenUDP opens a UDP socket bound to addr ("127.0.0.1:0", "[::1]:7777") with opts.
// network is "udp", "udp4" or "udp6".
func ListenUDP(network, addr string, opts ListenOptions) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: opts.control}
	pc, err := lc.ListenPacket(context.Background(), network, addr)
	if err != nil {
		return nil, err
	}
	uc := pc.(*net.UDPConn)
	if err := opts.setBuffers(uc); err != nil {
		uc.Close()
		return nil, err
	}
	return uc, nil
}

// DialUDP opens a UDP socket connected to raddr with opts, bound to an ephemeral local
// port. A connected socket receives only from raddr and reports ICMP errors, such as
// ECONNREFUSED when nothing listens on raddr.
func DialUDP(network, raddr string, opts ListenOptions) (*net.UDPConn, error) {
	d := net.Dialer{Control: opts.control}
	c, err := d.Dial(network, raddr)
	if err != nil {
		return nil, err
	}
	uc := c.(*net.UDPConn)
	if err := opts.setBuffers(uc); err != nil {
		uc.Close()
		return nil, err
	}
	return uc, nil
}

func (o ListenOptions) setBuffers(uc *net.UDPConn) error {
	if o.RecvBuf > 0 {
		if err := uc.SetReadBuffer(o.RecvBuf); err != nil {
			return fmt.Errorf("cannot set receive buffer to %d bytes: %w", o.RecvBuf, err)
		}
	}
	if o.SendBuf > 0 {
		if err := uc.SetWriteBuffer(o.SendBuf); err != nil {
			return fmt.Errorf("cannot set send buffer to %d bytes: %w", o.SendBuf, err)
		}
	}
	return nil
}
