package larsconf

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/lb"
	"gopkg.in/ini.v1"
)

// AgentSettings are the part of the agent's configuration (agent.Config, whose fields
// of the same names they are) that a Lars agent conf file sets, each from the section
// and keys its comment names.
type AgentSettings struct {
	ReportService string        // [reporter] ip and port
	RouteService  []string      // [dnsserver] ip and port; ip may list hosts on that port
	CacheFile     string        // [dnsserver] cache: the route cache's path
	TLS           tlsconf.Files // [tls] cert, key and ca
	// Table is [loadbalance]: Lars's keys and this agent's pull_timeout and
	// report_interval in Table.Settings, the policies in Table.Policies, max_keys,
	// max_no_route_keys and no_answer_ttl in the fields of those names.
	Table               lb.Config
	Caller              netip.Addr // [loadbalance] local_ip: the caller address of status reports
	UnknownKeyRate      int        // [loadbalance] unknown_key_rate
	UnknownKeySources   int        // [loadbalance] unknown_key_sources
	AllowRemoteGetRoute bool       // [loadbalance] allow_remote_get_route
	// Registrations are [register]'s instance lines, in order (see Registration);
	// AllowRemoteRegister and MaxRegistrations its allow_remote and max_registrations.
	Registrations       []Registration
	AllowRemoteRegister bool
	MaxRegistrations    int
}

// LoadAgent reads the Lars agent conf file at path into s (see ParseAgent).
func LoadAgent(path string, s *AgentSettings) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read config %s: %w", path, err)
	}
	return ParseAgent(data, path, s)
}

// ParseAgent applies a Lars agent conf file's content to s; name is used in errors.
// AgentSettings says which section and key sets what. [loadbalance] takes Lars's keys
// (probe_num, init_succ_cnt, init_err_cnt, err_rate, succ_rate, contin_err_limit,
// contin_succ_limit, window_err_rate, idle_timeout, overload_timeout, update_timeout)
// plus this agent's pull_timeout, report_interval, local_ip (the caller address of
// status reports) and max_keys (the most keys created on demand, lb.Config.MaxKeys),
// the bounds on unknown keys (max_no_route_keys, no_answer_ttl, unknown_key_rate,
// unknown_key_sources: see lb.Config and agent.Config), allow_remote_get_route (true
// or false, agent.Config), the agent's zone (zone, lb.Config.Zone, checked by
// route.CheckZone), and the opt-in policies of lb.Policies (policy, panic_threshold,
// overload_backoff, overload_timeout_max, inflight_timeout, ewma_decay, slow_start,
// zone_min_usable). Timeouts are whole seconds as in Lars, or Go durations ("1.5s",
// "200ms"). Keys that are absent leave s as it is; an unknown key in [loadbalance] is
// an error, so a typo does not silently keep a default. The file follows the ini
// package's usual rules (a '#' or ';' after a value starts a comment), not Parse's
// literal ones. [register] lists the instances the agent registers itself (see
// Registration), one "instance" line each.
func ParseAgent(data []byte, name string, s *AgentSettings) error {
	f, err := ini.Load(data)
	if err != nil {
		return fmt.Errorf("cannot read config %s: %w", name, err)
	}
	if err := applyAgent(f, s); err != nil {
		return fmt.Errorf("config %s: %w", name, err)
	}
	if err := applyRegister(data, s); err != nil {
		return fmt.Errorf("config %s: %w", name, err)
	}
	return nil
}

// applyAgent applies the sections of f to cfg.
func applyAgent(f *ini.File, cfg *AgentSettings) error {
	if addr, ok, err := hostPort(f.Section("reporter")); err != nil {
		return fmt.Errorf("[reporter]: %w", err)
	} else if ok {
		cfg.ReportService = addr
	}
	if addrs, ok, err := hostPorts(f.Section("dnsserver")); err != nil {
		return fmt.Errorf("[dnsserver]: %w", err)
	} else if ok {
		cfg.RouteService = addrs
	}
	if cache := strings.TrimSpace(f.Section("dnsserver").Key("cache").String()); cache != "" {
		cfg.CacheFile = cache
	}
	for _, k := range []struct {
		key string
		v   *string
	}{{"cert", &cfg.TLS.Cert}, {"key", &cfg.TLS.Key}, {"ca", &cfg.TLS.CA}} {
		if v := strings.TrimSpace(f.Section("tls").Key(k.key).String()); v != "" {
			*k.v = v
		}
	}
	return applyLoadBalance(f.Section("loadbalance"), cfg)
}

// hostPort reads "ip" and "port" of a section; ok is false when the section has neither.
func hostPort(sec *ini.Section) (addr string, ok bool, err error) {
	ip, port := strings.TrimSpace(sec.Key("ip").String()), strings.TrimSpace(sec.Key("port").String())
	if ip == "" && port == "" {
		return "", false, nil
	}
	addr, err = joinHostPort(ip, port)
	return addr, err == nil, err
}

// hostPorts is hostPort where ip may be a comma-separated list of hosts sharing the
// port, tried in order: "10.0.0.5, 10.0.0.6" gives [10.0.0.5:7778 10.0.0.6:7778].
func hostPorts(sec *ini.Section) (addrs []string, ok bool, err error) {
	ips, port := strings.TrimSpace(sec.Key("ip").String()), strings.TrimSpace(sec.Key("port").String())
	if !strings.Contains(ips, ",") {
		addr, ok, err := hostPort(sec)
		if !ok {
			return nil, false, err
		}
		return []string{addr}, true, nil
	}
	var list []string
	for _, ip := range strings.Split(ips, ",") {
		if ip = strings.TrimSpace(ip); ip == "" {
			return nil, false, fmt.Errorf("ip %q has an empty element", ips)
		}
		addr, err := joinHostPort(ip, port)
		if err != nil {
			return nil, false, err
		}
		list = append(list, addr)
	}
	return list, true, nil
}

// joinHostPort checks port and returns ip:port, ip defaulting to 127.0.0.1.
func joinHostPort(ip, port string) (string, error) {
	if ip == "" {
		ip = "127.0.0.1"
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", fmt.Errorf("port %q is not in 1..65535", port)
	}
	return net.JoinHostPort(ip, port), nil
}
