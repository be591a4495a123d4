package larsconf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/lb"
	"gopkg.in/ini.v1"
)

// AgentSettings are the part of the agent's configuration (agent.Config, whose fields
// of the same names they are) that a Lars agent conf file sets.
type AgentSettings struct {
	ReportService       string
	RouteService        []string
	CacheFile           string
	TLS                 tlsconf.Files
	Table               lb.Config
	Caller              netip.Addr
	UnknownKeyRate      int
	UnknownKeySources   int
	AllowRemoteGetRoute bool
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
// It reads the report service from [reporter] ip and port, the route service from
// [dnsserver] ip and port (ip may be a comma-separated list of hosts on that port,
// tried in order) and this agent's route cache from [dnsserver] cache (a file path),
// its TLS files from [tls] cert, key and ca (see agent.Config.TLS), and the balancing
// settings from [loadbalance] with Lars's keys (probe_num, init_succ_cnt,
// init_err_cnt, err_rate, succ_rate, contin_err_limit, contin_succ_limit,
// window_err_rate, idle_timeout, overload_timeout, update_timeout) plus this agent's
// pull_timeout, report_interval, local_ip (the caller address of status reports) and
// max_keys (the most keys created on demand, lb.Config.MaxKeys), the bounds on unknown
// keys (max_no_route_keys, no_answer_ttl, unknown_key_rate, unknown_key_sources: see
// lb.Config and agent.Config), allow_remote_get_route (true or false, agent.Config),
// and the opt-in policies of lb.Policies (policy, panic_threshold, overload_backoff,
// overload_timeout_max, inflight_timeout, ewma_decay). Timeouts are whole seconds as
// in Lars, or Go durations ("1.5s", "200ms"). Keys that are absent leave s as it is;
// an unknown key in [loadbalance] is an error, so a typo does not silently keep a
// default. The file follows the ini package's usual rules (a '#' or ';' after a
// value starts a comment), not Parse's literal ones.
func ParseAgent(data []byte, name string, s *AgentSettings) error {
	f, err := ini.Load(data)
	if err != nil {
		return fmt.Errorf("cannot read config %s: %w", name, err)
	}
	if err := applyAgent(f, s); err != nil {
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
	if cfg.Table.Settings == (lb.Settings{}) && len(f.Section("loadbalance").Keys()) > 0 {
		cfg.Table.Settings = lb.DefaultSettings()
	}
	s := &cfg.Table.Settings
	for _, k := range f.Section("loadbalance").Keys() {
		v := strings.TrimSpace(k.Value())
		var err error
		switch k.Name() {
		case "probe_num":
			s.ProbeNum, err = strconv.Atoi(v)
		case "init_succ_cnt":
			s.InitSuccCnt, err = strconv.Atoi(v)
		case "init_err_cnt":
			s.InitErrCnt, err = strconv.Atoi(v)
		case "err_rate":
			s.ErrRate, err = strconv.ParseFloat(v, 64)
		case "succ_rate":
			s.SuccRate, err = strconv.ParseFloat(v, 64)
		case "contin_err_limit":
			s.ContinErrLimit, err = strconv.Atoi(v)
		case "contin_succ_limit":
			s.ContinSuccLimit, err = strconv.Atoi(v)
		case "window_err_rate":
			s.WindowErrRate, err = strconv.ParseFloat(v, 64)
		case "idle_timeout":
			s.IdleTimeout, err = seconds(v)
		case "overload_timeout":
			s.OverloadTimeout, err = seconds(v)
		case "update_timeout":
			s.UpdateTimeout, err = seconds(v)
		case "pull_timeout":
			s.PullTimeout, err = seconds(v)
		case "report_interval":
			s.ReportInterval, err = seconds(v)
		case "policy":
			cfg.Table.Policies.Pick, err = lb.ParsePolicy(v)
		case "panic_threshold":
			cfg.Table.Policies.PanicThreshold, err = strconv.Atoi(strings.TrimSuffix(v, "%"))
		case "overload_backoff":
			cfg.Table.Policies.OverloadBackoff, err = lb.ParseFactor(v)
		case "overload_timeout_max":
			cfg.Table.Policies.OverloadTimeoutMax, err = seconds(v)
		case "inflight_timeout":
			cfg.Table.Policies.InflightTimeout, err = seconds(v)
		case "ewma_decay":
			cfg.Table.Policies.EWMADecay, err = seconds(v)
		case "local_ip":
			cfg.Caller, err = netip.ParseAddr(v)
		case "max_keys":
			cfg.Table.MaxKeys, err = positive(v)
		case "max_no_route_keys":
			cfg.Table.MaxNoRouteKeys, err = positive(v)
		case "no_answer_ttl":
			if cfg.Table.NoAnswerTTL, err = seconds(v); err == nil && cfg.Table.NoAnswerTTL <= 0 {
				err = errors.New("want a positive duration")
			}
		case "unknown_key_rate":
			cfg.UnknownKeyRate, err = strconv.Atoi(v) // negative: no limit
			if err == nil && cfg.UnknownKeyRate == 0 {
				err = errors.New("want a positive rate, or negative for no limit")
			}
		case "unknown_key_sources":
			cfg.UnknownKeySources, err = positive(v)
		case "allow_remote_get_route":
			cfg.AllowRemoteGetRoute, err = strconv.ParseBool(v)
		default:
			return fmt.Errorf("[loadbalance]: unknown key %q", k.Name())
		}
		if err != nil {
			return fmt.Errorf("[loadbalance] %s = %q: %w", k.Name(), v, err)
		}
	}
	return nil
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

// positive parses a count of at least 1.
func positive(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err == nil && n <= 0 {
		err = errors.New("want at least 1")
	}
	return n, err
}

// seconds parses a Lars timeout: whole seconds, or a Go duration.
func seconds(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}
