package main

import (
	"testing"

	"github.com/larsgo/lars/internal/daemon/daemontest"
	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/routesvc"
)

// TestTLSFlags: the TLS files and the policy reach the route service.
func TestTLSFlags(t *testing.T) {
	daemontest.TLSAndPolicyReachService(t, command, func(c routesvc.Config) *tlsconf.Server { return c.TLS },
		func(c routesvc.Config) *policy.Live { return c.Policy }, "pull agent/* *")
}
