package agent

import "github.com/larsgo/lars/internal/larsconf"

// LoadINI applies a Lars agent configuration file to cfg: the route and report
// services, the route cache, the TLS files and the [loadbalance] settings, as
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
	}
}

// setConfSettings sets the fields of cfg an agent conf file sets from s.
func (c *Config) setConfSettings(s larsconf.AgentSettings) {
	c.ReportService, c.RouteService, c.CacheFile, c.TLS = s.ReportService, s.RouteService, s.CacheFile, s.TLS
	c.Table, c.Caller = s.Table, s.Caller
	c.UnknownKeyRate, c.UnknownKeySources, c.AllowRemoteGetRoute = s.UnknownKeyRate, s.UnknownKeySources, s.AllowRemoteGetRoute
}
