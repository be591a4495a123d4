package main

import (
	"flag"
	"fmt"

	"github.com/larsgo/lars/console"
	"github.com/larsgo/lars/internal/httpguard"
	"github.com/larsgo/lars/internal/secretsrc"
)

// minAdminToken is the shortest token -admin-token-file takes.
const minAdminToken = 16

// registerGuardFlags declares the flags that say which requests the console and its
// admin endpoint answer, and where the DSN may come from instead of -db.
func registerGuardFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.dbFile, "db-file", "", "`FILE` whose first line is the route store's DSN, in place of -db (default: -config's [mysql], else $"+secretsrc.EnvDB+", else the -db default)")
	fs.StringVar(&o.allowedHosts, "allowed-hosts", "", "comma-separated host `names` the console and its admin endpoint answer besides loopback names and their listen addresses (any other Host header: 421, which defeats DNS rebinding)")
	fs.StringVar(&o.trustedProxies, "trusted-proxies", "", "comma-separated `CIDRs` or addresses of proxies whose Forwarded and X-Forwarded-* headers name the client; then a token is required, even on loopback")
	fs.BoolVar(&o.behindProxy, "behind-proxy", false, "a proxy that terminates TLS serves the console: its cookie is Secure; a token is required, even on loopback")
	fs.IntVar(&o.maxConns, "max-conns", console.DefaultMaxConns, "most HTTP connections open at once; one past it is closed at once and counted")
	fs.StringVar(&o.adminTokenFile, "admin-token-file", "", "`FILE` whose first line (at least 16 characters) is a bearer token every admin request needs (Authorization: Bearer TOKEN)")
}

// guardSettings checks the guard's flags into s.
func guardSettings(o *options, s *settings) error {
	hosts, err := httpguard.ParseHosts(o.allowedHosts)
	if err != nil {
		return fmt.Errorf("-allowed-hosts: %w", err)
	}
	proxies, err := httpguard.ParsePrefixes(o.trustedProxies)
	if err != nil {
		return fmt.Errorf("-trusted-proxies: %w", err)
	}
	if o.maxConns < 1 {
		return fmt.Errorf("-max-conns %d: want at least 1", o.maxConns)
	}
	s.guard = console.GuardOptions{Listen: s.listen, AllowedHosts: hosts, TrustedProxies: proxies, BehindProxy: o.behindProxy, MaxConns: o.maxConns}
	s.adminOpts.AllowedHosts = hosts
	if o.adminTokenFile != "" {
		if s.adminOpts.Token, err = secretsrc.Token("-admin-token-file", o.adminTokenFile, minAdminToken); err != nil {
			return err
		}
	}
	return nil
}
