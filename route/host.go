package route

import (
	"cmp"
	"net/netip"
	"strconv"
)

// Weights. A host's Weight is its share of the calls relative to the other hosts of
// its key: a host of weight 200 gets twice the calls of one of weight 100.
const (
	// DefaultWeight is the weight of a host that names none (Weight 0), so a key whose
	// hosts name no weight spreads calls evenly, as Lars does.
	DefaultWeight = 100
	// MaxWeight is the largest weight a host may have.
	MaxWeight = 10000
)

// MaxZoneLen is the longest zone name.
const MaxZoneLen = 64

// Host is one server of a service: its address (IPv4 or IPv6, never an IPv4-mapped
// IPv6 address: parsing unmaps it), its weight (0: DefaultWeight) and the zone it
// runs in ("": none). Hosts are compared by value; two hosts at one address with
// different weights are the same server with a changed weight (Diff).
type Host struct {
	Addr   netip.AddrPort
	Weight uint32
	Zone   string
}

// HostAt returns the host at addr with no weight or zone.
func HostAt(addr netip.AddrPort) Host { return Host{Addr: addr} }

// EffectiveWeight returns h's weight, DefaultWeight when it names none.
func (h Host) EffectiveWeight() uint32 {
	if h.Weight == 0 {
		return DefaultWeight
	}
	return h.Weight
}

// Is4 reports whether h's address is IPv4, the only kind Lars's wire carries in ip.
func (h Host) Is4() bool { return h.Addr.Addr().Is4() }

// Plain reports whether h names neither a weight nor a zone.
func (h Host) Plain() bool { return h.Weight == 0 && h.Zone == "" }

// String returns h in its text form (AppendText).
func (h Host) String() string { return string(h.AppendText(make([]byte, 0, 48))) }

// AppendText appends h's text form: "IP:PORT" ("[IPv6]:PORT" for IPv6), followed by
// ";weight=N" when it names a weight and ";zone=NAME" when it names a zone. It is a
// single token without white space or commas, so host lists separate hosts by either;
// ParseHostText reads it back.
func (h Host) AppendText(dst []byte) []byte {
	return h.appendOptions(h.Addr.AppendTo(dst), ';')
}

// appendOptions appends " weight=N" and " zone=NAME", each when h names it, with sep
// in place of the space.
func (h Host) appendOptions(dst []byte, sep byte) []byte {
	if h.Weight != 0 {
		dst = append(append(dst, sep), "weight="...)
		dst = strconv.AppendUint(dst, uint64(h.Weight), 10)
	}
	if h.Zone != "" {
		dst = append(append(dst, sep), "zone="...)
		dst = append(dst, h.Zone...)
	}
	return dst
}

// Compare orders hosts by address (IPv4 before IPv6, each by its bytes: for IPv4 the
// order of the wire number as an unsigned integer), then port, then weight, then zone.
func Compare(a, b Host) int {
	if c := CompareAddr(a, b); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Weight, b.Weight); c != 0 {
		return c
	}
	return cmp.Compare(a.Zone, b.Zone)
}

// CompareAddr orders hosts by address and port only.
func CompareAddr(a, b Host) int { return a.Addr.Compare(b.Addr) }
