// Package httpguard puts the checks every HTTP endpoint of Lars needs in front of its
// handler: the Host header must name this server (which defeats DNS rebinding),
// forwarded headers count only from trusted proxies, an optional bearer token,
// bounded request bodies, server timeouts and a cap on open connections. Each refusal
// is counted by cause.
package httpguard

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Causes of <prefix>_refused_total: why a request or a connection was refused.
const (
	CauseHost  = "host"  // the Host header names another server (421)
	CauseToken = "token" // the bearer token is missing or wrong (401)
	CauseBody  = "body"  // the request body is over the bound (413)
	CauseConns = "conns" // a connection past the cap, closed at once
)

// Config configures a Guard. The zero value of every field but Prefix works.
type Config struct {
	// Prefix names the metrics: Prefix+"_refused_total{cause}" and so on, e.g.
	// "lars_console_http".
	Prefix string
	// Listen is the address the server listens on (HOST:PORT); its host is answered
	// unless it is every interface (empty, 0.0.0.0, ::).
	Listen string
	// AllowedHosts are the other Host names answered (ParseHosts). Loopback names and
	// addresses are always answered, and so is the IP address a connection came in on.
	AllowedHosts []string
	// TrustedProxies are the peers whose forwarded headers (Forwarded,
	// X-Forwarded-For, X-Forwarded-Proto) are believed (ParsePrefixes); those headers
	// from any other peer are removed and counted.
	TrustedProxies []netip.Prefix
	// BehindProxy says a proxy terminating TLS serves this server: its requests count
	// as secure (Secure cookies).
	BehindProxy bool
	// Token, if not empty, is the bearer token every request must carry
	// ("Authorization: Bearer TOKEN").
	Token string
	// Limits bound requests and connections (zero fields: the defaults).
	Limits Limits
}

// Guard is the checks of Config around a handler, and their counters.
type Guard struct {
	cfg       Config
	hosts     map[string]bool
	tokenHash [sha256.Size]byte
	limits    Limits

	set            *metrics.Set
	refused        map[string]*metrics.Counter
	forwardIgnored *metrics.Counter
	connsOpen      *metrics.Counter
}

// New returns the Guard for cfg.
func New(cfg Config) (*Guard, error) {
	if cfg.Prefix == "" {
		return nil, errors.New("httpguard: no metric prefix")
	}
	g := &Guard{cfg: cfg, hosts: map[string]bool{}, limits: cfg.Limits.withDefaults(), set: metrics.NewSet(), refused: map[string]*metrics.Counter{}}
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		g.hosts[h] = true
	}
	for _, h := range cfg.AllowedHosts {
		g.hosts[normalHost(h)] = true
	}
	if cfg.Listen != "" {
		if h := listenHost(cfg.Listen); h != "" {
			g.hosts[h] = true
		}
	}
	if cfg.Token != "" {
		g.tokenHash = sha256.Sum256([]byte(cfg.Token))
	}
	for _, c := range []string{CauseHost, CauseToken, CauseBody, CauseConns} {
		g.refused[c] = g.set.NewCounter(cfg.Prefix + `_refused_total{cause="` + c + `"}`)
	}
	g.forwardIgnored = g.set.NewCounter(cfg.Prefix + "_forwarded_ignored_total")
	g.connsOpen = g.set.NewCounter(cfg.Prefix + "_conns_open")
	return g, nil
}

// WriteMetrics writes the guard's metrics in Prometheus text format:
// <prefix>_refused_total{cause} (see the causes), <prefix>_forwarded_ignored_total
// (requests whose forwarded headers came from a peer not trusted, and were removed)
// and <prefix>_conns_open (connections open now).
func (g *Guard) WriteMetrics(w io.Writer) { g.set.WritePrometheus(w) }

// Refused returns how many requests or connections were refused for cause.
func (g *Guard) Refused(cause string) uint64 {
	if c := g.refused[cause]; c != nil {
		return c.Get()
	}
	return 0
}

// Wrap returns h behind the guard's checks, in this order: the Host, the body bound,
// the token, then the forwarded headers (see ClientOf).
func (g *Guard) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.hostAllowed(r) {
			g.refuse(w, CauseHost, http.StatusMisdirectedRequest, "This server does not answer the host "+quoteHost(r.Host)+": name it by an address it is configured for (loopback, its listen address, -allowed-hosts).")
			return
		}
		if r.ContentLength > g.limits.MaxBodyBytes {
			w.Header().Set("Connection", "close")
			g.refuse(w, CauseBody, http.StatusRequestEntityTooLarge, "The request body is too large.")
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &boundedBody{ReadCloser: http.MaxBytesReader(w, r.Body, g.limits.MaxBodyBytes), counter: g.refused[CauseBody]}
		}
		if g.cfg.Token != "" && !g.hasToken(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lars"`)
			g.refuse(w, CauseToken, http.StatusUnauthorized, "This endpoint needs its bearer token (Authorization: Bearer TOKEN).")
			return
		}
		h.ServeHTTP(w, g.withClient(r))
	})
}

// refuse answers a refused request with status and a line of text, and counts it.
func (g *Guard) refuse(w http.ResponseWriter, cause string, status int, text string) {
	g.refused[cause].Inc()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, text+"\n")
}

// hasToken reports whether r carries the bearer token. The comparison takes the same
// time whatever the token given.
func (g *Guard) hasToken(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	const scheme = "bearer "
	if len(auth) <= len(scheme) || !strings.EqualFold(auth[:len(scheme)], scheme) {
		return false
	}
	h := sha256.Sum256([]byte(strings.TrimSpace(auth[len(scheme):])))
	return subtle.ConstantTimeCompare(h[:], g.tokenHash[:]) == 1
}

// boundedBody is a request body under http.MaxBytesReader that counts the request
// once when it reads past the bound.
type boundedBody struct {
	io.ReadCloser
	counter *metrics.Counter
	counted bool
}

// Read reads the body, counting the first read past the bound.
func (b *boundedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooLarge *http.MaxBytesError
	if err != nil && !b.counted && errors.As(err, &tooLarge) {
		b.counted = true
		b.counter.Inc()
	}
	return n, err
}

// Server returns an http.Server for h behind the guard, with the guard's timeouts and
// header bound. Serve it on g.Listener(ln).
func (g *Guard) Server(h http.Handler) *http.Server {
	l := g.limits
	return &http.Server{Handler: g.Wrap(h), ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout,
		WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes}
}

// Limits bound what one request, and all connections together, can take.
type Limits struct {
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// MaxHeaderBytes bounds a request's header (default DefaultMaxHeaderBytes).
	MaxHeaderBytes int
	// MaxConns caps the connections open at once (default DefaultMaxConns).
	MaxConns int
	// The server's timeouts (defaults: the Default... constants).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// Defaults of Limits.
const (
	DefaultMaxBodyBytes      = 1 << 20
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxConns          = 256
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
)

// withDefaults returns l with every zero field set to its default.
func (l Limits) withDefaults() Limits {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxConns <= 0 {
		l.MaxConns = DefaultMaxConns
	}
	def(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&l.ReadTimeout, DefaultReadTimeout)
	def(&l.WriteTimeout, DefaultWriteTimeout)
	def(&l.IdleTimeout, DefaultIdleTimeout)
	return l
}
