package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"

	"github.com/larsgo/lars/internal/httpguard"
)

// tokenCookie is the cookie the login page sets: the token's SHA-256, hex.
const tokenCookie = "lars_console_token"

// hasToken reports whether r carries the token, in the login cookie or the "token"
// form field. It is true when the console has no token.
func (s *Server) hasToken(r *http.Request) bool {
	if s.token == "" {
		return true
	}
	if c, err := r.Cookie(tokenCookie); err == nil {
		if b, err := hex.DecodeString(c.Value); err == nil && subtle.ConstantTimeCompare(b, s.tokenHash[:]) == 1 {
			return true
		}
	}
	if r.Method == http.MethodPost {
		if t := r.PostFormValue("token"); t != "" {
			h := sha256.Sum256([]byte(t))
			return subtle.ConstantTimeCompare(h[:], s.tokenHash[:]) == 1
		}
	}
	return false
}

// loginPage asks for the token.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", page{Title: "Token", Nav: "login", Body: s.token != ""})
}

// login checks the token and sets the cookie that carries it (its hash) with every
// later request of this browser.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if !s.hasToken(r) {
		s.render(w, r, http.StatusUnauthorized, "login", page{Title: "Token", Nav: "login", Error: "Wrong token.", Body: true})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: hex.EncodeToString(s.tokenHash[:]), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)})
	http.Redirect(w, r, "/?done=login", http.StatusSeeOther)
}

// write wraps a write handler: it refuses a request without the token (when the
// console has one) and names the writer in the context for RouteHistory.
func (s *Server) write(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "The form cannot be read: "+err.Error())
			return
		}
		if !s.hasToken(r) {
			s.errorPage(w, r, http.StatusUnauthorized, "Changes need this console's token: give it on the Token page, then try again.")
			return
		}
		if c, ok := httpguard.ClientOf(r); ok && c.UntrustedForward && s.token == "" {
			s.log.Warn("a change through an undeclared proxy refused: give the console a token and -trusted-proxies", "peer", c.Peer.String())
			s.errorPage(w, r, http.StatusForbidden, "This change came through a proxy the console was not told of, and the console has no token: it was refused.")
			return
		}
		h(w, r.WithContext(withWho(r)))
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

// remoteIP returns the address of r's client without the port: through a trusted
// proxy, the client it names and the proxy ("203.0.113.9 via 127.0.0.1").
func remoteIP(r *http.Request) string {
	if c, ok := httpguard.ClientOf(r); ok && c.Proxied {
		if c.IP != c.Peer {
			return c.IP.String() + " via " + c.Peer.String()
		}
		return c.IP.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
