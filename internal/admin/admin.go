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
	"time"

	"github.com/VictoriaMetrics/metrics"
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
	srv *http.Server
	ln  net.Listener
}

// Start listens on addr and serves handler there until Shutdown.
func Start(addr string, handler http.Handler, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on admin address: %w", err)
	}
	s := &Server{srv: &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}, ln: ln}
	go s.srv.Serve(ln)
	if logger != nil {
		logger.Info("admin endpoint", "addr", ln.Addr().String())
	}
	return s, nil
}

// Addr is the address the endpoint listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops the endpoint, waiting for open requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
