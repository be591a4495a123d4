package tlsconf

import (
	"log/slog"
	"time"
)

// ReloadLogged reads srv's files again (as Reload) on an operator's SIGHUP and logs
// the outcome: new handshakes use them, connections already open keep going; on an
// error the files loaded before stay in use. A nil srv (no TLS) has nothing to reload,
// which is logged too.
func ReloadLogged(srv *Server, log *slog.Logger) {
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
