// Package admin is the admin HTTP endpoint every Lars daemon of this project offers:
// /metrics, /healthz, /routes and /debug/pprof/, on an address of its own (loopback by
// default), started and stopped with the daemon.
package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/larsgo/lars/internal/httpguard"
	"github.com/larsgo/lars/pprof"
)

// Handlers are what a daemon shows on its admin endpoint. Nil fields are not served.
type Handlers struct {
	// Metrics writes the daemon's own metrics in Prometheus text format; the process
	// metrics (CPU, memory, file descriptors, Go runtime) follow them.
	Metrics func(w io.Writer)
	// Health reports whether the daemon is healthy and a short text saying why; an
	// unhealthy answer is served with status 503. Default: always "ok".
	Health func() (healthy bool, text string)
	// Routes returns the value /routes serves as JSON.
	Routes func() any
}

// Mux returns the admin endpoint's handler for h.
func Mux(h Handlers) *http.ServeMux {
	mux := http.NewServeMux()
	if h.Metrics != nil {
		mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			h.Metrics(w)
			metrics.WriteProcessMetrics(w)
		})
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		healthy, text := true, "ok"
		if h.Health != nil {
			healthy, text = h.Health()
		}
		if !healthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, text)
	})
	if h.Routes != nil {
		mux.HandleFunc("/routes", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			_ = enc.Encode(h.Routes())
		})
	}
	pprof.Register(mux, pprof.DefaultOptions)
	return mux
}

// Bool is a boolean as a gauge's value: 1 or 0.
func Bool(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// Server is a running admin endpoint.
type Server struct {
	srv   *http.Server
	ln    net.Listener
	guard *httpguard.Guard
}

// Options guard an admin endpoint.
type Options struct {
	// AllowedHosts are the Host names answered besides loopback names and the
	// endpoint's own address (httpguard.ParseHosts): -allowed-hosts.
	AllowedHosts []string
	// Token, if not empty, is the bearer token every request needs:
	// -admin-token-file.
	Token string
}

// Bounds of the admin endpoint: a few clients (a scraper, an operator), small
// requests, but CPU profiles and traces that take their ?seconds= to answer.
const (
	maxBodyBytes = 64 << 10
	maxConns     = 64
	writeTimeout = 10 * time.Minute
)

// Start listens on addr and serves handler there until Shutdown, behind the checks of
// httpguard: only the Host names of opts and loopback, the token of opts, bounded
// requests and connections. An address without a host (":6060") binds loopback.
// /metrics gets the guard's counters (lars_admin_http_refused_total{cause} ...) and
// /debug/pprof/cmdline shows the command line with its secrets redacted.
func Start(addr string, handler http.Handler, logger *slog.Logger, opts Options) (*Server, error) {
	addr = LoopbackDefault(addr)
	g, err := httpguard.New(httpguard.Config{Prefix: "lars_admin_http", Listen: addr, AllowedHosts: opts.AllowedHosts, Token: opts.Token,
		Limits: httpguard.Limits{MaxBodyBytes: maxBodyBytes, MaxConns: maxConns, WriteTimeout: writeTimeout}})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on admin address: %w", err)
	}
	s := &Server{srv: g.Server(withGuardPages(handler, g)), ln: g.Listener(ln), guard: g}
	go s.srv.Serve(s.ln)
	if logger != nil {
		logger.Info("admin endpoint", "addr", ln.Addr().String(), "token", opts.Token != "")
	}
	return s, nil
}

// LoopbackDefault returns addr with an empty host (":6060") made 127.0.0.1: the admin
// endpoint binds loopback unless an address says otherwise.
func LoopbackDefault(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "" {
		return addr
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// withGuardPages returns h with the guard's counters after /metrics and the redacted
// command line at /debug/pprof/cmdline.
func withGuardPages(h http.Handler, g *httpguard.Guard) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/debug/pprof/cmdline":
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, strings.Join(RedactArgs(os.Args), "\x00"))
		case "/metrics":
			h.ServeHTTP(w, r)
			g.WriteMetrics(w)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// Addr is the address the endpoint listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops the endpoint, waiting for open requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
