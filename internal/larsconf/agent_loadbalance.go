package larsconf

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
	"gopkg.in/ini.v1"
)

// applyLoadBalance applies the agent conf's [loadbalance] section, sec, to cfg (see
// ParseAgent for its keys).
func applyLoadBalance(sec *ini.Section, cfg *AgentSettings) error {
	if cfg.Table.Settings == (lb.Settings{}) && len(sec.Keys()) > 0 {
		cfg.Table.Settings = lb.DefaultSettings()
	}
	s := &cfg.Table.Settings
	for _, k := range sec.Keys() {
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
		case "slow_start":
			cfg.Table.Policies.SlowStart, err = seconds(v)
		case "zone_min_usable":
			cfg.Table.Policies.ZoneMinUsable, err = strconv.Atoi(strings.TrimSuffix(v, "%"))
		case "zone":
			if err = route.CheckZone(v); err == nil {
				cfg.Table.Zone = v
			}
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
