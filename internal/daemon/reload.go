package daemon

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/larsgo/lars/internal/policy"
)

// reloadPolicy reads the policy file again on SIGHUP and logs the outcome: each open
// connection takes the new policy at its next request. On an error the policy in
// force stays. Without a policy there is nothing to do.
func reloadPolicy(p *policy.Live, log *slog.Logger) {
	if p == nil {
		return
	}
	if err := p.Reload(); err != nil {
		log.Error("SIGHUP: policy not reloaded; the one loaded before stays in force", "err", err)
		return
	}
	log.Info("SIGHUP: policy reloaded", "file", p.Path(), "rules", len(p.Current().Rules()))
}

// resolvePolicy loads the -policy file, which names verified identities and so needs
// mutual TLS (-tls-ca, or [tls] ca).
func (f *Flags) resolvePolicy(r *Resolved) error {
	if f.Policy == "" {
		return nil
	}
	if r.TLS == nil || !r.TLS.Mutual() {
		return errors.New("-policy names certificate identities: it needs mutual TLS (-tls-cert, -tls-key and -tls-ca)")
	}
	p, err := policy.LoadLive(f.Policy)
	if err != nil {
		return fmt.Errorf("-policy: %w", err)
	}
	r.Policy = p
	r.note(slog.LevelInfo, "authorization policy loaded (deny by default)", "file", f.Policy, "rules", len(p.Current().Rules()))
	return nil
}
