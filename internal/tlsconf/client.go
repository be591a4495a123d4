package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Client is the TLS end of a client's links, an agent's. Its methods are safe for
// concurrent use.
type Client struct {
	files Files
	mu    sync.Mutex // serializes Reload
	cur   atomic.Pointer[material]
}

// NewClient loads the client's files. f.CA verifies the services (without it, the
// system's roots do); f.Cert and f.Key, together or not at all, are the client's
// identity, valid now for client authentication.
func NewClient(f Files) (*Client, error) {
	c := &Client{files: f}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again. Handshakes from then on use what it read;
// established connections are not touched. On an error the files loaded before stay
// in use.
func (c *Client) Reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := load(c.files, x509.ExtKeyUsageClientAuth, time.Now())
	if err != nil {
		return err
	}
	c.cur.Store(m)
	return nil
}

// Certificate returns the client's certificate in use, nil if it has none.
func (c *Client) Certificate() *x509.Certificate {
	if m := c.cur.Load(); m.cert != nil {
		return m.cert.Leaf
	}
	return nil
}

// Config returns a new configuration for one connection to the service called
// serverName, the host name or IP address the client dialed, which the service's
// certificate must name. It uses the CA last loaded, and the certificate loaded at
// the time of the handshake.
func (c *Client) Config(serverName string) *tls.Config {
	return &tls.Config{
		MinVersion: MinVersion,
		ServerName: serverName,
		RootCAs:    c.cur.Load().pool,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if m := c.cur.Load(); m.cert != nil {
				return m.cert, nil
			}
			return &tls.Certificate{}, nil // none: the server decides
		},
	}
}

// Dial connects to address on network with d and runs the TLS handshake, within ctx
// and, as tls.Dialer does, d.Timeout for the whole. The service's certificate must name
// address's host.
func (c *Client) Dial(ctx context.Context, d *net.Dialer, network, address string) (*tls.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(nc, c.Config(host))
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}
