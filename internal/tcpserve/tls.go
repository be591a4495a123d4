package tcpserve

import (
	"context"
	"log/slog"
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

// Authenticate runs the handshake of nc, accepted through srv's listener, and logs the
// connection with its peer's identity ("peer", Peer.String) when it ends well. It
// reports false, the caller then closing nc, when the handshake is refused (counted by
// srv, logged at debug level: a flood of plaintext clients must not flood the log) or
// when srv is mutual and the peer has no identity. peer is the zero Peer when srv is
// not mutual.
func Authenticate(nc net.Conn, srv *tlsconf.Server, log *slog.Logger) (peer tlsconf.Peer, ok bool) {
	remote := nc.RemoteAddr().String()
	peer, known, err := Handshake(nc)
	if err != nil {
		log.Debug("TLS handshake refused", "remote", remote, "err", err)
		return tlsconf.Peer{}, false
	}
	if srv.Mutual() && !known {
		log.Warn("connection refused: no verified identity", "remote", remote)
		return tlsconf.Peer{}, false
	}
	if known {
		log.Info("connection", "remote", remote, "peer", peer.String())
	} else {
		log.Debug("connection", "remote", remote, "tls", true)
	}
	return peer, true
}

// TLSMode names how srv serves, for the "serving" log line: "off" (nil, plain Lars
// framing), "mutual" (clients present certificates) or "server" (they do not).
func TLSMode(srv *tlsconf.Server) string {
	switch {
	case srv == nil:
		return "off"
	case srv.Mutual():
		return "mutual"
	}
	return "server"
}
