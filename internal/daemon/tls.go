package daemon

import (
	"fmt"
	"log/slog"

	"github.com/larsgo/lars/internal/tlsconf"
)

// resolveTLS takes the TLS files from -tls-cert, -tls-key and -tls-ca, each flag given
// on the command line winning over the conf file's [tls] cert, key and ca, and loads
// them: r.TLS is then the service's TLS end, nil when no file is named (plain Lars
// framing, as the C++ components speak).
func (f *Flags) resolveTLS(r *Resolved) error {
	files := f.TLS
	if r.Conf != nil {
		for _, k := range []struct {
			flag, conf string
			v          *string
		}{{"tls-cert", r.Conf.TLS.Cert, &files.Cert}, {"tls-key", r.Conf.TLS.Key, &files.Key}, {"tls-ca", r.Conf.TLS.CA, &files.CA}} {
			if !r.Set[k.flag] && k.conf != "" {
				*k.v = k.conf
			}
		}
	}
	if !files.Enabled() {
		return nil
	}
	if files.Cert == "" || files.Key == "" {
		return fmt.Errorf("-tls-cert and -tls-key: a service with TLS needs both (given: cert %q, key %q)", files.Cert, files.Key)
	}
	srv, err := tlsconf.NewServer(files, 0)
	if err != nil {
		return fmt.Errorf("-tls-cert, -tls-key, -tls-ca: %w", err)
	}
	r.TLS = srv
	mode := "TLS (clients not authenticated: no -tls-ca)"
	if srv.Mutual() {
		mode = "mutual TLS (every client presents a certificate the -tls-ca signed)"
	}
	r.note(slog.LevelInfo, "listening with "+mode, "cert", files.Cert, "ca", files.CA,
		"not_after", srv.Certificate().NotAfter.UTC().Format("2006-01-02T15:04:05Z"))
	return nil
}
