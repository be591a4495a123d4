package main

import (
	"log/slog"

	"github.com/larsgo/lars/agent"
)

// reload is SIGHUP: the routes file read again (with -routes, or when there is nothing
// else to reload, which is then logged as a failure), the [register] lines of -config
// (conf) and the TLS files, each outcome logged. What failed to load leaves what was
// loaded before in force.
func reload(a *agent.Agent, cfg agent.Config, conf string, log *slog.Logger) {
	if conf != "" {
		if err := a.ReloadINIRegistrations(conf); err != nil {
			log.Error("SIGHUP: [register] not reloaded; the registrations in force stay", "err", err)
		} else {
			log.Info("SIGHUP: [register] reloaded", "file", conf, "registrations", len(a.Registrations()))
		}
	}
	if cfg.RoutesFile != "" || (!a.TLSEnabled() && conf == "") {
		if err := a.Reload(); err != nil {
			log.Error("routes reload failed, keeping the routes in force", "err", err)
		} else {
			log.Info("routes reloaded", "file", cfg.RoutesFile)
		}
	}
	if !a.TLSEnabled() {
		return
	}
	if err := a.ReloadTLS(); err != nil {
		log.Error("SIGHUP: TLS files not reloaded; the ones loaded before stay in use", "err", err)
		return
	}
	attrs := []any{"cert", cfg.TLS.Cert, "ca", cfg.TLS.CA}
	if c := a.TLSClient().Certificate(); c != nil {
		attrs = append(attrs, "subject", c.Subject.CommonName, "not_after", c.NotAfter.UTC().Format("2006-01-02T15:04:05Z"))
	}
	log.Info("SIGHUP: TLS files reloaded", attrs...)
}
