package tcpserve

import (
	"context"
	"net"

	"github.com/larsgo/lars/internal/tlsconf"
)

// Handshake runs the TLS handshake of nc, a connection as passed to Handle, when the
// listener made it a tlsconf server connection, and returns the verified peer: ok is
// false when nc is not TLS or its peer presented no certificate. A refused handshake
// (counted by the tlsconf.Server) returns its error; the caller closes nc.
func Handshake(nc net.Conn) (peer tlsconf.Peer, ok bool, err error) {
	inner := nc
	if c, isConn := nc.(*conn); isConn {
		inner = c.Conn
	}
	tc, isTLS := inner.(*tlsconf.Conn)
	if !isTLS {
		return tlsconf.Peer{}, false, nil
	}
	if err := tc.HandshakeContext(context.Background()); err != nil {
		return tlsconf.Peer{}, false, err
	}
	peer, ok = tlsconf.Identity(nc)
	return peer, ok, nil
}
