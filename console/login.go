package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/larsgo/lars/store"
)

// loginBody is the login page's data.
type loginBody struct {
	Name, Next string
}

// loginPage asks for an account's name and password.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", page{Title: "Log in", Nav: "login", Body: loginBody{Next: localPath(r.URL.Query().Get("next"))}})
}

// login checks a name and password, within the login rates of the client and of the
// account, and starts a session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	name, pw := r.PostFormValue("name"), r.PostFormValue("password")
	body := loginBody{Name: name, Next: localPath(r.PostFormValue("next"))}
	client, bucket := clientIP(r), accountBucket(name)
	now := s.now()
	if !s.clients.allowed(client, now) || !s.accounts.allowed(bucket, now) {
		s.loginLimited(w, r, client, name)
		return
	}
	a, err := s.db.Account(r.Context(), name)
	if err != nil && !errors.Is(err, store.ErrNoAccount) {
		s.storeError(w, r, err)
		return
	}
	if err != nil || !PasswordMatches(a.Hash, pw) {
		if err != nil {
			PasswordMatches(dummyHash(), pw) // as slow as a wrong password
		}
		s.clients.take(client, now)
		s.accounts.take(bucket, now)
		s.metrics.logins[loginFailed].Inc()
		s.log.Warn("a login failed", "account", logName(name), "client", clientText(r))
		body.Name = ""
		s.render(w, r, http.StatusUnauthorized, "login", page{Title: "Log in", Nav: "login", Error: "Wrong name or password.", Body: body})
		return
	}
	if err := s.startSession(w, r, a.Name); err != nil {
		s.storeError(w, r, err)
		return
	}
	s.metrics.logins[loginOK].Inc()
	s.log.Info("logged in", "account", a.Name, "role", string(a.Role), "client", clientText(r))
	http.Redirect(w, r, body.Next, http.StatusSeeOther)
}

// accountBucket is the key of name's login bucket: a name longer than any account's
// is cut, so that a table of buckets stays small whatever names are tried.
func accountBucket(name string) string {
	if len(name) > store.MaxAccountNameLen {
		return name[:store.MaxAccountNameLen+1]
	}
	return name
}

// loginLimited refuses a login (or a token) over its client's or account's rate.
func (s *Server) loginLimited(w http.ResponseWriter, r *http.Request, client, name string) {
	s.metrics.logins[loginLimited].Inc()
	s.log.Warn("a login refused: too many failures", "account", logName(name), "client", client)
	w.Header().Set("Retry-After", "60")
	s.render(w, r, http.StatusTooManyRequests, "login", page{Title: "Log in", Nav: "login",
		Error: "Too many failed logins from here or for this account: wait a minute, then try again.", Body: loginBody{Next: "/"}})
}

// logout ends the request's session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if id, ok := identityOf(r); ok && id.idHash != "" {
		if err := s.db.DeleteSession(r.Context(), id.idHash); err != nil {
			s.storeError(w, r, err)
			return
		}
		s.log.Info("logged out", "account", id.name, "client", clientText(r))
	}
	clearSessionCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// localPath returns p when it is a path of this console ("/..."), else "/": a login
// never sends the browser to another site.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/"
	}
	if u, err := url.Parse(p); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return p
}

// logName is name as a log shows it: cut, and a name that is no account name quoted.
func logName(name string) string {
	if store.CheckAccountName(name) == nil {
		return name
	}
	if len(name) > store.MaxAccountNameLen {
		name = name[:store.MaxAccountNameLen]
	}
	return strings.ToValidUTF8(name, "?")
}
