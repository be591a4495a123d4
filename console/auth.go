package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
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
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
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
		h(w, r.WithContext(withWho(r)))
	}
}

// remoteIP returns the address of r's client without the port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
