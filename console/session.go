package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/larsgo/lars/store"
)

// sessionCookie is the cookie that carries a session's id.
const sessionCookie = "lars_console_session"

// Default session lifetimes (-session-idle, -session-max).
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 12 * time.Hour
)

// sessionIDBytes is the length of a session id: 256 random bits.
const sessionIDBytes = 32

// identity is who made a request: an account through its session, or a script
// through the API token.
type identity struct {
	name   string
	role   store.Role
	idHash string // the session's; "" for the token
}

// identityKey is the context key of the request's identity.
type identityKey struct{}

// identityOf returns r's identity, if it was authenticated.
func identityOf(r *http.Request) (identity, bool) {
	id, ok := r.Context().Value(identityKey{}).(identity)
	return id, ok
}

// withIdentity returns ctx carrying id.
func withIdentity(ctx context.Context, id identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// newSessionID returns a new random session id (for the cookie) and its hash (for the
// store).
func newSessionID() (id, idHash string, err error) {
	b := make([]byte, sessionIDBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	id = base64.RawURLEncoding.EncodeToString(b)
	return id, hashSessionID(b), nil
}

// hashSessionID is what the store keeps of a session id: its SHA-256, hex.
func hashSessionID(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

// parseSessionID returns the hash of the session id in a cookie value, or false for a
// value that is no session id.
func parseSessionID(v string) (string, bool) {
	if len(v) != base64.RawURLEncoding.EncodedLen(sessionIDBytes) {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) != sessionIDBytes {
		return "", false
	}
	return hashSessionID(b), true
}

// errExpired is a session past its idle or absolute expiry.
var errExpired = errors.New("session expired")

// session returns the live session r's cookie names, or store.ErrNoSession (no
// cookie, an unknown id) or errExpired (deleted now). It marks the session seen now,
// at most once a touchEvery.
func (s *Server) session(r *http.Request) (store.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return store.Session{}, store.ErrNoSession
	}
	idHash, ok := parseSessionID(c.Value)
	if !ok {
		return store.Session{}, store.ErrNoSession
	}
	ss, err := s.db.Session(r.Context(), idHash)
	if err != nil {
		return store.Session{}, err
	}
	now := s.now()
	if now.Sub(ss.Seen) >= s.sessionIdle || now.Sub(ss.Created) >= s.sessionMax {
		if err := s.db.DeleteSession(r.Context(), idHash); err != nil {
			return store.Session{}, err
		}
		s.metrics.sessionsExpired.Inc()
		return store.Session{}, errExpired
	}
	if now.Sub(ss.Seen) >= s.touchEvery() {
		if err := s.db.TouchSession(r.Context(), idHash, now); err != nil {
			return store.Session{}, err
		}
	}
	return ss, nil
}

// touchEvery is how stale a session's last-seen time may get: a fraction of the idle
// expiry, so that not every request writes.
func (s *Server) touchEvery() time.Duration { return min(s.sessionIdle/30, time.Minute) }

// startSession stores a new session of account and sets its cookie on w.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, account string) error {
	id, idHash, err := newSessionID()
	if err != nil {
		return err
	}
	now := s.now()
	if _, err := s.db.DeleteExpiredSessions(r.Context(), now.Add(-s.sessionIdle), now.Add(-s.sessionMax)); err != nil {
		return err
	}
	if err := s.db.AddSession(r.Context(), store.Session{IDHash: idHash, Account: account, Created: now}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", MaxAge: int(s.sessionMax / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)})
	return nil
}

// clearSessionCookie tells the browser to forget its session cookie.
func clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)})
}
