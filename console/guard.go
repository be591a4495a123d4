package console

import (
	"net/netip"

	"github.com/larsgo/lars/internal/httpguard"
)

// Bounds of the console's HTTP server.
const (
	// MaxBodyBytes bounds a request body on every path: the largest form (a
	// replaced route) is far under it.
	MaxBodyBytes = 1 << 20
	// DefaultMaxConns is the default cap on open connections (-max-conns).
	DefaultMaxConns = 256
)

// GuardOptions say which requests the console answers (see NewGuard).
type GuardOptions struct {
	// Listen is the console's -listen address: its host is answered.
	Listen string
	// AllowedHosts are the other Host names answered (-allowed-hosts).
	AllowedHosts []string
	// TrustedProxies are the peers whose forwarded headers count (-trusted-proxies).
	TrustedProxies []netip.Prefix
	// BehindProxy says a proxy terminating TLS serves the console (-behind-proxy):
	// its cookie is Secure.
	BehindProxy bool
	// MaxConns caps the open connections (default DefaultMaxConns).
	MaxConns int
}

// NewGuard returns the checks in front of the console: only the Host names of o and
// loopback (which defeats DNS rebinding), forwarded headers from o.TrustedProxies
// only, bodies of at most MaxBodyBytes, the server timeouts and the connection cap of
// httpguard. Its metrics are lars_console_http_refused_total{cause} and so on.
func NewGuard(o GuardOptions) (*httpguard.Guard, error) {
	return httpguard.New(httpguard.Config{Prefix: "lars_console_http", Listen: o.Listen, AllowedHosts: o.AllowedHosts,
		TrustedProxies: o.TrustedProxies, BehindProxy: o.BehindProxy,
		Limits: httpguard.Limits{MaxBodyBytes: MaxBodyBytes, MaxConns: o.MaxConns}})
}
