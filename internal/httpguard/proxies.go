package httpguard

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ParsePrefixes parses a comma-separated list of CIDR prefixes or single IP addresses
// (a /32 or /128): the -trusted-proxies flag. Empty items are skipped.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if a, err := netip.ParseAddr(item); err == nil && a.Zone() == "" {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or a CIDR prefix (10.0.0.0/8, ::1)", item)
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return nil, fmt.Errorf("%q: an IPv4-mapped prefix shorter than /96", item)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Client is what the guard learned of a request's client.
type Client struct {
	// IP is the client's address: the peer's, or, when the peer is a trusted proxy,
	// the nearest address its forwarded headers name that is not a trusted proxy.
	IP netip.Addr
	// Peer is the address of the connection's other end.
	Peer netip.Addr
	// Proxied is true when the peer is a trusted proxy.
	Proxied bool
	// Secure is true when the request came over TLS: to this server, or to a trusted
	// proxy that said so (proto=https), or under Config.BehindProxy.
	Secure bool
	// UntrustedForward is true when forwarded headers came from a peer not trusted
	// (they were removed): a proxy nobody declared may stand in front.
	UntrustedForward bool
}

// clientKey is the context key of the Client.
type clientKey struct{}

// ClientOf returns what the guard learned of r's client; ok is false for a request
// that did not pass a Guard.
func ClientOf(r *http.Request) (c Client, ok bool) {
	c, ok = r.Context().Value(clientKey{}).(Client)
	return c, ok
}

// forwardHeaders are the headers a proxy sets to say whom it forwards for.
var forwardHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-Ip"}

// withClient returns r with its Client in the context; forwarded headers from a peer
// not trusted are removed from r and counted.
func (g *Guard) withClient(r *http.Request) *http.Request {
	var c Client
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		c.Peer = ap.Addr().Unmap()
	}
	c.IP = c.Peer
	c.Secure = r.TLS != nil || g.cfg.BehindProxy
	if c.Peer.IsValid() && g.trusted(c.Peer) {
		c.Proxied = true
		ip, proto := g.forwardedClient(r.Header, c.Peer)
		c.IP = ip
		c.Secure = c.Secure || strings.EqualFold(proto, "https")
	} else {
		for _, h := range forwardHeaders {
			if _, ok := r.Header[h]; ok {
				c.UntrustedForward = true
				r.Header.Del(h)
			}
		}
		if c.UntrustedForward {
			g.forwardIgnored.Inc()
		}
	}
	return r.WithContext(context.WithValue(r.Context(), clientKey{}, c))
}

// trusted reports whether a is a trusted proxy.
func (g *Guard) trusted(a netip.Addr) bool {
	for _, p := range g.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedClient returns the client a trusted proxy (peer) forwards for, and the
// protocol the client used: the Forwarded header if there is one, else
// X-Forwarded-For and X-Forwarded-Proto. The hops are walked from the nearest; the
// first that is not a trusted proxy is the client. A hop that cannot be read stops the
// walk at the proxy that wrote it.
func (g *Guard) forwardedClient(h http.Header, peer netip.Addr) (netip.Addr, string) {
	var hops []hop
	if v := h.Values("Forwarded"); len(v) > 0 {
		hops = parseForwarded(strings.Join(v, ","))
	} else {
		for _, f := range strings.Split(strings.Join(h.Values("X-Forwarded-For"), ","), ",") {
			if f = strings.TrimSpace(f); f != "" {
				hops = append(hops, hop{addr: parseNode(f)})
			}
		}
		if protos := strings.Split(strings.Join(h.Values("X-Forwarded-Proto"), ","), ","); len(hops) > 0 {
			hops[len(hops)-1].proto = strings.TrimSpace(protos[len(protos)-1])
		} else {
			return peer, strings.TrimSpace(protos[len(protos)-1])
		}
	}
	client, proto := peer, ""
	for i := len(hops) - 1; i >= 0; i-- {
		if hops[i].proto != "" && proto == "" {
			proto = hops[i].proto
		}
		if !hops[i].addr.IsValid() {
			break
		}
		client = hops[i].addr
		if hops[i].proto != "" {
			proto = hops[i].proto
		}
		if !g.trusted(client) {
			break
		}
	}
	return client, proto
}

// hop is one proxy hop a forwarded header names: the address it received from (zero
// when unknown or unreadable) and the protocol it was reached by.
type hop struct {
	addr  netip.Addr
	proto string
}

// parseForwarded parses a Forwarded header (RFC 7239): comma-separated elements of
// semicolon-separated key=value pairs, values maybe quoted. Only for= and proto= are
// read.
func parseForwarded(v string) []hop {
	var hops []hop
	for elem := range strings.SplitSeq(v, ",") {
		var h hop
		for pair := range strings.SplitSeq(elem, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok {
				continue
			}
			val = strings.Trim(strings.TrimSpace(val), `"`)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "for":
				h.addr = parseNode(val)
			case "proto":
				h.proto = val
			}
		}
		hops = append(hops, h)
	}
	return hops
}

// parseNode parses a node of a forwarded header: an IP address, maybe with a port, an
// IPv6 one maybe in brackets. Anything else ("unknown", an obfuscated name) is the
// zero Addr.
func parseNode(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap()
	}
	return netip.Addr{}
}
