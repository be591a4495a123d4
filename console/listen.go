package console

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// EnvToken names the environment variable lars-console reads its token from when
// -token is not given.
const EnvToken = "LARS_CONSOLE_TOKEN"

// CheckListen returns an error when addr (HOST:PORT) is not a loopback address and
// token is empty: off loopback, writes need a token. A host name counts as loopback
// only if it is "localhost" or every address it resolves to is loopback.
func CheckListen(ctx context.Context, addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid listen address %q: want HOST:PORT", addr)
	}
	if token != "" || IsLoopbackHost(ctx, host) {
		return nil
	}
	return fmt.Errorf("listen address %s is not loopback: a token is required (-token or %s) so that only its holders can change routes", addr, EnvToken)
}

// CheckProxies returns an error when a proxy is declared (trusted proxies, or
// behindProxy) and token is empty: behind a proxy, every client of the proxy reaches
// the console from the proxy's address, loopback or not, so writes need a token as off
// loopback.
func CheckProxies(trusted []netip.Prefix, behindProxy bool, token string) error {
	if token != "" || (len(trusted) == 0 && !behindProxy) {
		return nil
	}
	return fmt.Errorf("behind a proxy (-trusted-proxies, -behind-proxy) a token is required (-token or %s): the proxy's clients would otherwise all change routes", EnvToken)
}

// IsLoopbackHost reports whether host (an address or a name) is on loopback only. The
// empty host (every interface) is not.
func IsLoopbackHost(ctx context.Context, host string) bool {
	if host == "localhost" {
		return true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.IsLoopback()
	}
	if host == "" {
		return false
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return false
		}
	}
	return true
}
