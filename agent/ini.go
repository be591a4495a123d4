package agent

import (
	"net/netip"

	"github.com/larsgo/lars/internal/larsconf"
	"github.com/larsgo/lars/route"
)

// LoadINI applies a Lars agent configuration file to cfg: the route and report
// services, the route cache, the TLS files, the [loadbalance] settings and the
// [register] lines, as
// larsconf.ParseAgent reads them. Keys that are absent leave cfg as it is; an unknown
// key in [loadbalance] is an error, so a typo does not silently keep a default.
func LoadINI(path string, cfg *Config) error {
	s := cfg.confSettings()
	if err := larsconf.LoadAgent(path, &s); err != nil {
		return err
	}
	cfg.setConfSettings(s)
	return nil
}

// confSettings returns the fields of cfg an agent conf file sets.
func (c *Config) confSettings() larsconf.AgentSettings {
	return larsconf.AgentSettings{
		ReportService:       c.ReportService,
		RouteService:        c.RouteService,
		CacheFile:           c.CacheFile,
		TLS:                 c.TLS,
		Table:               c.Table,
		Caller:              c.Caller,
		UnknownKeyRate:      c.UnknownKeyRate,
		UnknownKeySources:   c.UnknownKeySources,
		AllowRemoteGetRoute: c.AllowRemoteGetRoute,
		Registrations:       toConfRegistrations(c.Registrations),
		AllowRemoteRegister: c.AllowRemoteRegister,
		MaxRegistrations:    c.MaxRegistrations,
	}
}

// setConfSettings sets the fields of cfg an agent conf file sets from s.
func (c *Config) setConfSettings(s larsconf.AgentSettings) {
	c.ReportService, c.RouteService, c.CacheFile, c.TLS = s.ReportService, s.RouteService, s.CacheFile, s.TLS
	c.Table, c.Caller = s.Table, s.Caller
	c.UnknownKeyRate, c.UnknownKeySources, c.AllowRemoteGetRoute = s.UnknownKeyRate, s.UnknownKeySources, s.AllowRemoteGetRoute
	c.Registrations, c.AllowRemoteRegister, c.MaxRegistrations = fromConfRegistrations(s.Registrations), s.AllowRemoteRegister, s.MaxRegistrations
}

// toConfRegistrations returns regs as [register] lines.
func toConfRegistrations(regs []Registration) []larsconf.Registration {
	var out []larsconf.Registration
	for _, r := range regs {
		out = append(out, larsconf.Registration{Modid: r.Key.Modid, Cmdid: r.Key.Cmdid,
			IP: r.Host.Addr(), Port: int(r.Host.Port()), TTL: r.TTL, Check: r.Check, Interval: r.CheckInterval})
	}
	return out
}

// fromConfRegistrations returns [register] lines as registrations.
func fromConfRegistrations(lines []larsconf.Registration) []Registration {
	var out []Registration
	for _, l := range lines {
		// An IPv4 address (larsconf checked it), a port in 1..65535.
		out = append(out, Registration{Key: route.Key{Modid: l.Modid, Cmdid: l.Cmdid},
			Host: netip.AddrPortFrom(l.IP.Unmap(), uint16(l.Port)), TTL: l.TTL, Check: l.Check, CheckInterval: l.Interval})
	}
	return out
}
