package console

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// maxHostList is the most hosts the replace form takes.
const maxHostList = 10000

// inputError is a problem with what the user sent, shown on the page as it is.
type inputError struct{ msg string }

func (e inputError) Error() string { return e.msg }

// inputErrorf returns an inputError.
func inputErrorf(format string, args ...any) error { return inputError{fmt.Sprintf(format, args...)} }

// parseID parses a modid or cmdid: the store keeps them unsigned, Lars's wire signed,
// so 0..2147483647.
func parseID(name, s string) (int32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, inputErrorf("The %s is missing: give a number from 0 to 2147483647.", name)
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil || v < 0 {
		return 0, inputErrorf("The %s %q is not a number from 0 to 2147483647.", name, s)
	}
	return int32(v), nil
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

// parseIP parses a dotted IPv4 address into its wire form.
func parseIP(s string) (int32, error) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, inputErrorf("The IP address %q is not a dotted IPv4 address such as 10.0.0.1 (Lars routes carry IPv4 only).", s)
	}
	b := a.As4()
	return int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])), nil
}

// parsePort parses a port, 1..65535.
func parsePort(s string) (int32, error) {
	s = strings.TrimSpace(s)
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || p == 0 {
		return 0, inputErrorf("The port %q is out of range: give a number from 1 to 65535.", s)
	}
	return int32(p), nil
}

// parseHost parses an IP and a port.
func parseHost(ip, port string) (lb.Host, error) {
	addr, err := parseIP(ip)
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
		return lb.Host{}, inputErrorf("The host %q is not IP:PORT, such as 10.0.0.1:8080.", s)
	}
	return parseHost(s[:i], s[i+1:])
}

// parseHostList parses hosts "IP:PORT" separated by white space or commas, at least
// one, duplicates dropped.
func parseHostList(s string) ([]lb.Host, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	if len(fields) == 0 {
		return nil, inputErrorf("The host list is empty: give at least one IP:PORT (remove hosts one by one to take a service out).")
	}
	if len(fields) > maxHostList {
		return nil, inputErrorf("The host list has %d hosts, more than %d.", len(fields), maxHostList)
	}
	seen := make(map[lb.Host]bool, len(fields))
	var hosts []lb.Host
	for _, f := range fields {
		h, err := parseHostPort(f)
		if err != nil {
			return nil, err
		}
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
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
		hostText = " " + store.FormatHost(h)
	}
	switch q.Get("done") {
	case "added":
		return "Added host" + hostText + ". Every lars-dns pushes the change to its agents."
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
