package httpguard

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// maxHostName bounds a name of ParseHosts: a DNS name's longest text form.
const maxHostName = 253

// ParseHosts parses a comma-separated list of host names or IP addresses (an IPv6
// address with or without brackets), without ports: the -allowed-hosts flag. Names are
// returned lower case, without a trailing dot; empty items are skipped.
func ParseHosts(list string) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		h := normalHost(item)
		if _, err := netip.ParseAddr(h); err != nil && !validName(h) {
			return nil, fmt.Errorf("%q is not a host name or an IP address (give names without a port)", item)
		}
		out = append(out, h)
	}
	return out, nil
}

// validName reports whether s is a host name: dot-separated labels of letters,
// digits, '-' and '_', none empty, at most maxHostName bytes.
func validName(s string) bool {
	if s == "" || len(s) > maxHostName {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// normalHost returns host lower case, without brackets around an IPv6 address and
// without a trailing dot.
func normalHost(host string) string {
	host = strings.ToLower(host)
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	return strings.TrimSuffix(host, ".")
}

// listenHost returns the host of a listen address, normalized, or "" when it is every
// interface or not HOST:PORT.
func listenHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if a, err := netip.ParseAddr(host); err == nil && a.IsUnspecified() {
		return ""
	}
	return normalHost(host)
}

// requestHost returns the host of a Host header ("name", "name:port", "[::1]:port"),
// normalized.
func requestHost(hostport string) string {
	if host, port, err := net.SplitHostPort(hostport); err == nil {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil && port != "" {
			return ""
		}
		return normalHost(host)
	}
	return normalHost(hostport)
}

// hostAllowed reports whether r's Host names this server: a loopback name or address,
// the -listen host, an allowed host, or the IP address the connection came in on.
func (g *Guard) hostAllowed(r *http.Request) bool {
	host := requestHost(r.Host)
	if host == "" {
		return false
	}
	if g.hosts[host] {
		return true
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	if a.IsLoopback() {
		return true
	}
	if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(local.String()); err == nil && ap.Addr().Unmap() == a {
			return true
		}
	}
	return false
}

// quoteHost quotes a Host header for a refusal's text, cut to a readable length.
func quoteHost(h string) string {
	if len(h) > 100 {
		h = h[:100] + "..."
	}
	return strconv.Quote(h)
}
