package console

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/larsgo/lars/store"
)

// Config configures a Server. Store is required; the zero value of every other field
// works.
type Config struct {
	// Store is the route store the console reads and writes.
	Store *store.DB
	// Token, if not empty, is the API token scripts may give instead of a session
	// (Authorization: Bearer TOKEN), with an editor's rights; at least MinTokenLen
	// characters.
	Token string
	// SessionIdle and SessionMax end a session unused for SessionIdle or started
	// SessionMax ago (defaults DefaultSessionIdle, DefaultSessionMax).
	SessionIdle, SessionMax time.Duration
	// ClientRate and AccountRate bound the failed logins of a client address and of
	// an account name (defaults DefaultClientRate, DefaultAccountRate).
	ClientRate, AccountRate Rate
	// HashCost is the bcrypt cost of the passwords set on the accounts page (default
	// DefaultHashCost).
	HashCost int
	// Logger receives the database errors pages report (default: slog.Default()).
	Logger *slog.Logger
	// Now is the clock ages are measured with (default: time.Now).
	Now func() time.Time
	// PageRows is how many rows a page of a list shows (default DefaultPageRows);
	// MaxPageRows the most a page shows when ?n= asks for more (default
	// DefaultMaxPageRows, at least PageRows).
	PageRows, MaxPageRows int
}

// Server is the console's http.Handler.
type Server struct {
	db        *store.DB
	token     string
	tokenHash [sha256.Size]byte
	log       *slog.Logger
	now       func() time.Time
	pages     map[string]*template.Template
	handler   http.Handler
	// pageRows and maxPageRows bound the lists (Config.PageRows, Config.MaxPageRows).
	pageRows, maxPageRows int
	metrics               *consoleMetrics
	// sessionIdle and sessionMax are Config.SessionIdle and Config.SessionMax.
	sessionIdle, sessionMax time.Duration
	// clients and accounts hold the login buckets.
	clients, accounts *bucketTable
	hashCost          int
}

// New returns the console for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("console: no store")
	}
	s := &Server{db: cfg.Store, token: cfg.Token, log: cfg.Logger, now: cfg.Now,
		pageRows: cmp.Or(max(cfg.PageRows, 0), DefaultPageRows), maxPageRows: cmp.Or(max(cfg.MaxPageRows, 0), DefaultMaxPageRows)}
	s.maxPageRows = max(s.maxPageRows, s.pageRows)
	s.metrics = newConsoleMetrics()
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.token != "" && len(s.token) < MinTokenLen {
		return nil, fmt.Errorf("console: the API token has %d characters, fewer than %d", len(s.token), MinTokenLen)
	}
	s.sessionIdle = cmp.Or(max(cfg.SessionIdle, 0), DefaultSessionIdle)
	s.sessionMax = cmp.Or(max(cfg.SessionMax, 0), DefaultSessionMax)
	s.clients = newBucketTable(cmp.Or(cfg.ClientRate, DefaultClientRate), maxBuckets)
	s.accounts = newBucketTable(cmp.Or(cfg.AccountRate, DefaultAccountRate), maxBuckets)
	s.hashCost = cfg.HashCost
	if s.token != "" {
		s.tokenHash = sha256.Sum256([]byte(s.token))
	}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP serves the console.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// routes returns the console's handler: its pages behind the login (see
// requireLogin), the cross-origin protection and the security headers.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.servicesPage)
	mux.HandleFunc("GET /service/{modid}/{cmdid}", s.servicePage)
	mux.HandleFunc("GET /service/{modid}/{cmdid}/chart.svg", s.serviceChart)
	mux.HandleFunc("GET /history", s.historyPage)
	mux.HandleFunc("GET /names", s.namesPage)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /accounts", s.adminOnly(s.accountsPage))
	mux.HandleFunc("POST /accounts/add", s.adminOnly(s.addAccount))
	mux.HandleFunc("POST /accounts/change", s.adminOnly(s.changeAccount))
	mux.HandleFunc("POST /hosts/add", s.write(s.addHost))
	mux.HandleFunc("POST /hosts/remove", s.write(s.removeHost))
	mux.HandleFunc("POST /hosts/set", s.write(s.setHosts))
	mux.HandleFunc("POST /names", s.write(s.setName))
	mux.Handle("GET /static/", filesOnly(http.FileServerFS(staticFS)))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "There is no page "+r.URL.Path+" here.")
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusForbidden, "This change came from another site and was refused (cross-origin request). Make changes from the console's own pages.")
	}))
	return securityHeaders(cop.Handler(s.requireLogin(mux)))
}

// securityHeaders sets headers that keep the pages from being framed, sniffed or made
// to run anything but the console's own files.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}
