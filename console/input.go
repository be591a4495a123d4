package console

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/larsgo/lars/route"
)

// maxHostList is the most hosts the replace form takes.
const maxHostList = 10000

// inputError is a problem with what the user sent, shown on the page as it is.
type inputError struct{ msg string }

func (e inputError) Error() string { return e.msg }

// inputErrorf returns an inputError.
func inputErrorf(format string, args ...any) error { return inputError{fmt.Sprintf(format, args...)} }

// parseID parses a modid or cmdid (route.ParseID): the store keeps them unsigned,
// Lars's wire signed, so 0..2147483647.
func parseID(name, s string) (int32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, inputErrorf("The %s is missing: give a number from 0 to %d.", name, route.MaxID)
	}
	v, err := route.ParseID(name, s)
	if err != nil {
		return 0, inputErrorf("The %s %q is not a number from 0 to %d.", name, s, route.MaxID)
	}
	return v, nil
}

// parseKey parses a modid and a cmdid.
func parseKey(modid, cmdid string) (route.Key, error) {
	m, err := parseID("modid", modid)
	if err != nil {
		return route.Key{}, err
	}
	c, err := parseID("cmdid", cmdid)
	return route.Key{Modid: m, Cmdid: c}, err
}

// parseIP parses an IPv4 or IPv6 address (route.ParseAddr).
func parseIP(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	a, err := route.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, inputErrorf("The IP address %q is not an IPv4 or IPv6 address such as 10.0.0.1 or 2001:db8::1.", s)
	}
	return a, nil
}

// parsePort parses a port, 1..65535 (route.ParsePort).
func parsePort(s string) (uint16, error) {
	s = strings.TrimSpace(s)
	p, err := route.ParsePort(s)
	if err != nil {
		return 0, inputErrorf("The port %q is out of range: give a number from 1 to 65535.", s)
	}
	return p, nil
}

// parseHost parses an IP and a port.
func parseHost(ip, port string) (route.Host, error) {
	a, err := parseIP(ip)
	if err != nil {
		return route.Host{}, err
	}
	p, err := parsePort(port)
	return route.HostAt(netip.AddrPortFrom(a, p)), err
}

// parseWeight parses the add form's weight: empty for none (route.DefaultWeight),
// else 1..route.MaxWeight (route.ParseWeight).
func parseWeight(s string) (uint32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	w, err := route.ParseWeight(s)
	if err != nil {
		return 0, inputErrorf("The weight %q is not a number from 1 to %d: leave it empty for the default weight, %d.", s, route.MaxWeight, route.DefaultWeight)
	}
	return w, nil
}

// parseZone parses the add form's zone: empty for none, else a zone name
// (route.CheckZone).
func parseZone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if err := route.CheckZone(s); err != nil {
		return "", inputErrorf("The zone %q is not a zone name: give 1 to %d letters, digits, '.', '-' or '_' (such as eu-west-1), or leave it empty for none.", s, route.MaxZoneLen)
	}
	return s, nil
}

// parseHostForm parses the add form's fields: an IP (IPv4, or IPv6 bare or in
// brackets), a port, and an optional weight and zone.
func parseHostForm(ip, port, weight, zone string) (route.Host, error) {
	h, err := parseHost(ip, port)
	if err != nil {
		return route.Host{}, err
	}
	if h.Weight, err = parseWeight(weight); err != nil {
		return route.Host{}, err
	}
	if h.Zone, err = parseZone(zone); err != nil {
		return route.Host{}, err
	}
	return h, nil
}

// weightZoneText describes h's weight and zone for a message: "weight 300, zone eu",
// "the default weight, no zone".
func weightZoneText(h route.Host) string {
	w, z := "the default weight", "no zone"
	if h.Weight != 0 {
		w = fmt.Sprintf("weight %d", h.Weight)
	}
	if h.Zone != "" {
		z = "zone " + h.Zone
	}
	return w + ", " + z
}

// parseHostPort parses a host in its text form (route.ParseHostText): "IP:PORT",
// optionally followed by ";weight=N" and ";zone=NAME".
func parseHostPort(s string) (route.Host, error) {
	s = strings.TrimSpace(s)
	addr, opts, _ := strings.Cut(s, ";")
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return route.Host{}, inputErrorf("The host %q is not IP:PORT, such as 10.0.0.1:8080 or [2001:db8::1]:8080.", s)
	}
	h, err := parseHost(addr[:i], addr[i+1:])
	if err != nil {
		return h, err
	}
	if _, err := route.ParseAddrPort(addr); err != nil { // an IPv6 address without brackets
		return route.Host{}, inputErrorf("The host %q is not IP:PORT, such as 10.0.0.1:8080 or [2001:db8::1]:8080.", s)
	}
	if opts == "" {
		return h, nil
	}
	if h, err = route.ParseHostText(s); err != nil {
		return route.Host{}, inputErrorf("The host %q is not IP:PORT;weight=N;zone=NAME: a weight is a number from 1 to %d, a zone 1 to %d letters, digits, '.', '-' or '_'.", s, route.MaxWeight, route.MaxZoneLen)
	}
	return h, nil
}

// parseHostList parses hosts in their text form (parseHostPort) separated by white
// space or commas, at least one; a host given twice counts once, and an address given
// twice with another weight or zone is an error.
func parseHostList(s string) ([]route.Host, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	if len(fields) == 0 {
		return nil, inputErrorf("The host list is empty: give at least one IP:PORT (remove hosts one by one to take a service out).")
	}
	if len(fields) > maxHostList {
		return nil, inputErrorf("The host list has %d hosts, more than %d.", len(fields), maxHostList)
	}
	seen := make(map[netip.AddrPort]route.Host, len(fields))
	var hosts []route.Host
	for _, f := range fields {
		h, err := parseHostPort(f)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[h.Addr]; dup {
			if prev != h {
				return nil, inputErrorf("The host %s is listed twice, as %s and as %s.", h.Addr, prev, h)
			}
			continue
		}
		seen[h.Addr] = h
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// flash returns the message a write's redirect asks the next page to show; it is
// built here from checked values, never copied from the URL.
func flash(r *http.Request) string {
	q := r.URL.Query()
	h, err := parseHostPort(q.Get("host"))
	hostText := ""
	if err == nil {
		hostText = " " + h.String()
	}
	switch q.Get("done") {
	case "added":
		return "Added host" + hostText + ". Every lars-dns pushes the change to its agents."
	case "changed":
		was, err := parseHostPort(q.Get("was"))
		if hostText == "" || err != nil || was.Addr != h.Addr {
			return "Set the host's weight and zone. Every lars-dns pushes the change to its agents."
		}
		return fmt.Sprintf("Set host %s to %s (it had %s). Every lars-dns pushes the change to its agents.", h.Addr, weightZoneText(h), weightZoneText(was))
	case "removed":
		return "Removed host" + hostText + ". Every lars-dns pushes the change to its agents."
	case "set":
		n, _ := strconv.Atoi(q.Get("n"))
		return fmt.Sprintf("Replaced the host list (%d hosts). Every lars-dns pushes the change to its agents.", n)
	case "same":
		return "No change: the service already had exactly these hosts."
	case "named":
		return "Saved the name."
	case "login":
		return "Token accepted: this browser may change routes."
	}
	return ""
}
