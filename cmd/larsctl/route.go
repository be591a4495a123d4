package main

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// routeCmd administers the routes in the route store that -db (or -config) names.
var routeCmd = &command{
	name:        "route",
	subcommands: []*command{routeListCmd, routeAddCmd, routeDelCmd, routeSetCmd, routeDropCmd, routeImportCmd, routeExportCmd, routeHistoryCmd},
}

// withStore opens the route store, runs fn with it and closes it. Writes through fn's
// context are recorded in RouteHistory as larsctlWho's.
func (e *env) withStore(fn func(ctx context.Context, db *store.DB) error) error {
	ctx := store.WithWho(context.Background(), larsctlWho())
	db, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return storeError(fn(ctx, db))
}

// versionNote returns " (version N)", the route version after a write, or "" if it
// cannot be read: the write itself succeeded.
func versionNote(ctx context.Context, db *store.DB) string {
	s, err := db.Stamp(ctx)
	if err != nil {
		return ""
	}
	return fmt.Sprintf(" (version %d)", s.Version)
}

// formatKey returns "modid/cmdid".
func formatKey(k route.Key) string { return fmt.Sprintf("%d/%d", k.Modid, k.Cmdid) }

// parseRouteKey parses the MODID and CMDID arguments: the store keeps them unsigned,
// so they must be non-negative 32-bit integers.
func parseRouteKey(modid, cmdid string) (route.Key, error) {
	m, err := parseID("MODID", modid)
	if err != nil {
		return route.Key{}, err
	}
	c, err := parseID("CMDID", cmdid)
	return route.Key{Modid: m, Cmdid: c}, err
}

func parseID(name, s string) (int32, error) {
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil || v < 0 {
		return 0, usagef("%s %q: not an integer in 0..2147483647", name, s)
	}
	return int32(v), nil
}

// parseIPv4 parses a dotted IPv4 address into its wire form.
func parseIPv4(s string) (int32, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, usagef("IP %q: not a dotted IPv4 address (Lars routes carry IPv4 only)", s)
	}
	b := a.As4()
	return int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])), nil
}

// parsePort parses a port number, 1..65535.
func parsePort(s string) (int32, error) {
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || p == 0 {
		return 0, usagef("PORT %q: not a port number in 1..65535", s)
	}
	return int32(p), nil
}

// parseRouteHost parses IP and PORT arguments.
func parseRouteHost(ip, port string) (lb.Host, error) {
	addr, err := parseIPv4(ip)
	if err != nil {
		return lb.Host{}, err
	}
	p, err := parsePort(port)
	return lb.Host{IP: addr, Port: p}, err
}

// parseHostPort parses "IP:PORT".
func parseHostPort(s string) (lb.Host, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return lb.Host{}, usagef("host %q: want IP:PORT", s)
	}
	return parseRouteHost(s[:i], s[i+1:])
}
