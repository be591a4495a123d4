package daemon

import (
	"log/slog"
	"time"

	"github.com/larsgo/lars/internal/tlsconf"
)

// reload reads the TLS files again on SIGHUP and logs the outcome: new handshakes use
// them, connections already open keep going. On an error the files loaded before stay
// in use. Without TLS there is nothing to reload, which is logged too.
func reload(srv *tlsconf.Server, log *slog.Logger) {
	if srv == nil {
		log.Info("SIGHUP: nothing to reload (no TLS)")
		return
	}
	if err := srv.Reload(); err != nil {
		log.Error("SIGHUP: TLS files not reloaded; the ones loaded before stay in use", "err", err)
		return
	}
	attrs := []any{"mutual", srv.Mutual()}
	if c := srv.Certificate(); c != nil {
		attrs = append(attrs, "subject", c.Subject.CommonName, "not_after", c.NotAfter.UTC().Format(time.RFC3339))
	}
	log.Info("SIGHUP: TLS files reloaded", attrs...)
}
