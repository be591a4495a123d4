package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/larsgo/lars/internal/httpguard"
	"github.com/larsgo/lars/store"
)

// MinTokenLen is the shortest API token (-token) the console accepts.
const MinTokenLen = 16

// tokenName is the identity of requests made with the API token.
const tokenName = "token"

// publicPath reports whether path is served without a login: the login page and
// the static files it uses.
func publicPath(path string) bool {
	return path == "/login" || path == "/favicon.ico" || strings.HasPrefix(path, "/static/")
}

// requireLogin wraps h: every request but publicPath's needs a live session or the API
// token. A page asked for without one is sent to the login page; anything else is
// refused with 401, counted.
func (s *Server) requireLogin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if publicPath(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		if auth := r.Header.Get("Authorization"); auth != "" {
			s.bearer(w, r, auth, h)
			return
		}
		ss, err := s.session(r)
		switch {
		case err == nil:
			id := identity{name: ss.Account, role: ss.Role, idHash: ss.IDHash}
			h.ServeHTTP(w, r.WithContext(withIdentity(r.Context(), id)))
		case errors.Is(err, store.ErrNoSession) || errors.Is(err, errExpired):
			if errors.Is(err, errExpired) {
				clearSessionCookie(w, r)
			}
			s.metrics.denied[deniedNoSession].Inc()
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, http.StatusUnauthorized, "This needs a login: log in, then try again.")
		default:
			s.storeError(w, r, err)
		}
	})
}

// bearer serves r, which carries an Authorization header, when it holds the API
// token; a wrong one counts as a failed login of the client.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request, auth string, h http.Handler) {
	client := clientIP(r)
	if !s.clients.allowed(client, s.now()) {
		s.loginLimited(w, r, client, tokenName)
		return
	}
	given, ok := strings.CutPrefix(auth, "Bearer ")
	sum := sha256.Sum256([]byte(given))
	if !ok || s.token == "" || subtle.ConstantTimeCompare(sum[:], s.tokenHash[:]) != 1 {
		s.clients.take(client, s.now())
		s.metrics.logins[loginFailed].Inc()
		s.log.Warn("a request with a wrong API token refused", "client", clientText(r))
		w.Header().Set("WWW-Authenticate", `Bearer realm="lars-console"`)
		s.errorPage(w, r, http.StatusUnauthorized, "Wrong or no API token.")
		return
	}
	h.ServeHTTP(w, r.WithContext(withIdentity(r.Context(), identity{name: tokenName, role: store.RoleEditor})))
}

// write wraps a write handler: it refuses an identity that may not write (a viewer)
// with 403, counted, and names the writer in the context for RouteHistory.
func (s *Server) write(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "The form cannot be read: "+err.Error())
			return
		}
		id, ok := identityOf(r)
		if !ok || !id.role.CanWrite() {
			s.metrics.denied[deniedRole].Inc()
			s.log.Warn("a change refused: the account may only read", "account", id.name, "client", clientText(r))
			s.errorPage(w, r, http.StatusForbidden, "Your account may only read: changes need an editor's or an admin's.")
			return
		}
		h(w, r.WithContext(withWho(r, id)))
	}
}

// secure reports whether r came over TLS: to the console, or to a proxy that
// terminates it (see httpguard.Client.Secure).
func secure(r *http.Request) bool {
	if c, ok := httpguard.ClientOf(r); ok {
		return c.Secure
	}
	return r.TLS != nil
}

// clientIP returns the address of r's client, the key of its login bucket.
func clientIP(r *http.Request) string {
	if c, ok := httpguard.ClientOf(r); ok && c.IP.IsValid() {
		return c.IP.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// remoteIP returns the address of r's client without the port: through a trusted
// proxy, the client it names and the proxy ("203.0.113.9 via 127.0.0.1").
func remoteIP(r *http.Request) string {
	if c, ok := httpguard.ClientOf(r); ok && c.Proxied {
		if c.IP != c.Peer {
			return c.IP.String() + " via " + c.Peer.String()
		}
		return c.IP.String()
	}
	return clientIP(r)
}
