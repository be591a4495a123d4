package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// addForm is a write of host 10.7.7.7:7 into 1/1.
var addForm = url.Values{"modid": {"1"}, "cmdid": {"1"}, "ip": {"10.7.7.7"}, "port": {"7"}}

// wantRefused fails unless a write of addForm with cookie c (nil for none) is refused
// with status and writes nothing.
func (f *fixture) wantRefused(what string, c *http.Cookie, status int) {
	f.t.Helper()
	saved := f.cookie
	f.cookie = c
	defer func() { f.cookie = saved }()
	if rec := f.post("/hosts/add", addForm); rec.Code != status {
		f.t.Errorf("%s: status %d, want %d\n%s", what, rec.Code, status, rec.Body.String())
	}
	if got := f.hosts(route.Key{Modid: 1, Cmdid: 1}); got != "" {
		f.t.Fatalf("%s: wrote %q", what, got)
	}
}

// metric returns the value of a counter the console exports, as text.
func (f *fixture) metric(name string) string {
	f.t.Helper()
	var b strings.Builder
	f.c.WriteMetrics(&b)
	for line := range strings.Lines(b.String()) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return v
		}
	}
	f.t.Fatalf("no metric %s in\n%s", name, b.String())
	return ""
}

// TestWritesNeedASession: a write without a session, with a made-up one, with one past
// its idle or absolute expiry (the clock moved), after logout or after a password
// change is refused and writes nothing; reads without a session go to the login page.
func TestWritesNeedASession(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/lars.db", "")
	f.wantRefused("no session", nil, http.StatusUnauthorized)
	f.wantRefused("a made-up session", &http.Cookie{Name: sessionCookie, Value: strings.Repeat("A", 43)}, http.StatusUnauthorized)
	f.wantRefused("a malformed cookie", &http.Cookie{Name: sessionCookie, Value: "x"}, http.StatusUnauthorized)
	if got := f.metric(`lars_console_denied_total{cause="no_session"}`); got != "3" {
		t.Errorf("denied no_session = %s, want 3", got)
	}
	saved := f.cookie
	f.cookie = nil
	for _, p := range []string{"/", "/history", "/names", "/service/1/1", "/nowhere"} {
		if code, _ := f.get(p); code != http.StatusSeeOther {
			t.Errorf("GET %s without a session: %d, want 303 to the login page", p, code)
		}
	}
	if code, body := f.get("/login"); code != http.StatusOK || !strings.Contains(body, `name="password"`) {
		t.Errorf("the login page: %d", code)
	}
	f.cookie = saved

	// Idle expiry: a session used within DefaultSessionIdle lives on.
	start := f.now
	for range 4 {
		f.now = f.now.Add(DefaultSessionIdle - time.Minute)
		if code, _ := f.get("/"); code != http.StatusOK {
			t.Fatalf("a session used every %v: %d", DefaultSessionIdle-time.Minute, code)
		}
	}
	f.now = f.now.Add(DefaultSessionIdle)
	f.wantRefused("a session idle too long", f.cookie, http.StatusUnauthorized)

	// Absolute expiry, however often the session is used.
	f.now = start
	c := f.login(testAccount, testPassword)
	for f.now.Sub(start) < DefaultSessionMax-DefaultSessionIdle {
		f.now = f.now.Add(DefaultSessionIdle / 2)
		f.cookie = c
		if code, _ := f.get("/"); code != http.StatusOK {
			t.Fatalf("a session %v old: %d", f.now.Sub(start), code)
		}
	}
	f.now = start.Add(DefaultSessionMax)
	f.wantRefused("a session past its absolute expiry", c, http.StatusUnauthorized)
	if got := f.metric("lars_console_sessions_expired_total"); got != "2" {
		t.Errorf("sessions expired = %s, want 2", got)
	}

	// Logout.
	c = f.login(testAccount, testPassword)
	f.cookie = c
	if rec := f.post("/logout", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", rec.Code)
	}
	f.wantRefused("a session after logout", c, http.StatusUnauthorized)

	// A password change ends every session of the account.
	c = f.login(testAccount, testPassword)
	hash, _ := HashPassword("another-password-42", bcrypt.MinCost)
	if err := f.db.SetPassword(f.ctx(), testAccount, hash); err != nil {
		t.Fatal(err)
	}
	f.wantRefused("a session after a password change", c, http.StatusUnauthorized)
	f.cookie = f.login(testAccount, "another-password-42")
	if rec := f.post("/hosts/add", addForm); rec.Code != http.StatusSeeOther {
		t.Fatalf("a write with a new session: %d", rec.Code)
	}
}

// TestViewerCannotWrite: a viewer reads every page but each write is refused with 403,
// counted; an editor writes, named in RouteHistory.
func TestViewerCannotWrite(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/lars.db", "")
	viewer := f.account("vera", "vera-password-123", store.RoleViewer)
	f.cookie = viewer
	if code, body := f.get("/"); code != http.StatusOK || !strings.Contains(body, "vera (viewer)") || !strings.Contains(body, "may only read") {
		t.Errorf("a viewer's services page: %d", code)
	}
	f.wantRefused("a viewer's write", viewer, http.StatusForbidden)
	f.cookie = viewer
	for _, w := range []struct {
		path string
		form url.Values
	}{{"/names", url.Values{"kind": {"modid"}, "id": {"1"}, "name": {"x"}}}, {"/hosts/set", url.Values{"modid": {"1"}, "cmdid": {"1"}, "hosts": {"1.2.3.4:5"}}}} {
		if rec := f.post(w.path, w.form); rec.Code != http.StatusForbidden {
			t.Errorf("a viewer's POST %s: %d", w.path, rec.Code)
		}
	}
	if got := f.metric(`lars_console_denied_total{cause="role"}`); got != "3" {
		t.Errorf("denied role = %s, want 3", got)
	}
	f.cookie = f.account("eddie", "eddie-password-123", store.RoleEditor)
	if rec := f.post("/hosts/add", addForm); rec.Code != http.StatusSeeOther {
		t.Fatalf("an editor's write: %d", rec.Code)
	}
	if h := f.history(); len(h) != 1 || !strings.HasPrefix(h[0], "eddie (lars-console ") {
		t.Errorf("history %q, want eddie as the writer", h)
	}
}

// TestLoginRateLimited: failed logins from one client engage its limit, and a limited
// client is refused even with the right password; another client's failures on one
// account engage the account's. The limit lifts as the clock moves.
func TestLoginRateLimited(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/lars.db", "")
	// httptest requests all come from 192.0.2.1: the client's limit engages first.
	for i := range DefaultClientRate.Burst {
		if code := f.post("/login", url.Values{"name": {"nobody" + string(rune('a'+i))}, "password": {"wrong"}}).Code; code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i, code)
		}
	}
	if code := f.post("/login", url.Values{"name": {testAccount}, "password": {testPassword}}).Code; code != http.StatusTooManyRequests {
		t.Fatalf("the right password from a limited client: %d, want 429", code)
	}
	if got := f.metric(`lars_console_logins_total{result="limited"}`); got != "1" {
		t.Errorf("logins limited = %s, want 1", got)
	}
	if got := f.metric(`lars_console_logins_total{result="failed"}`); got != "10" {
		t.Errorf("logins failed = %s, want 10", got)
	}
	f.now = f.now.Add(DefaultClientRate.Every)
	f.login(testAccount, testPassword)

	// The account's limit, from clients each under their own.
	for i := range DefaultAccountRate.Burst {
		f.c.clients = newBucketTable(DefaultClientRate, maxBuckets) // a fresh client each time
		if code := f.post("/login", url.Values{"name": {testAccount}, "password": {"wrong"}}).Code; code != http.StatusUnauthorized {
			t.Fatalf("account failure %d: %d", i, code)
		}
	}
	f.c.clients = newBucketTable(DefaultClientRate, maxBuckets)
	if code := f.post("/login", url.Values{"name": {testAccount}, "password": {testPassword}}).Code; code != http.StatusTooManyRequests {
		t.Fatalf("the right password for a limited account: %d, want 429", code)
	}
	f.now = f.now.Add(DefaultAccountRate.Every)
	f.login(testAccount, testPassword)
}

// TestBucketTableBounded: the table never holds more than its bound, forgetting full
// buckets first.
func TestBucketTableBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tb := newBucketTable(Rate{Burst: 2, Every: time.Second}, 3)
	for i := range 10 {
		tb.take(string(rune('a'+i)), now)
		if len(tb.m) > 3 {
			t.Fatalf("%d buckets, bound 3", len(tb.m))
		}
	}
	tb.take("z", now)
	tb.take("z", now)
	if tb.allowed("z", now) {
		t.Error("z allowed after 2 failures of a burst of 2")
	}
	if !tb.allowed("z", now.Add(time.Second)) {
		t.Error("z not allowed a refill later")
	}
}

// TestLoginBucketKeysBounded: a login bucket's key is short whatever name is tried.
func TestLoginBucketKeysBounded(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/lars.db", "")
	f.cookie = nil
	f.post("/login", url.Values{"name": {strings.Repeat("n", 500_000)}, "password": {"x"}})
	for k := range f.c.accounts.m {
		if len(k) > store.MaxAccountNameLen+1 {
			t.Errorf("a bucket keyed by %d bytes", len(k))
		}
	}
	if len(f.c.accounts.m) != 1 {
		t.Errorf("%d account buckets after one failure", len(f.c.accounts.m))
	}
}

// TestSessionIDNotStored: the store holds the SHA-256 of the cookie's id, never the
// id itself.
func TestSessionIDNotStored(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/lars.db", "")
	rows, err := f.db.SQL().QueryContext(f.ctx(), "SELECT id_hash FROM ConsoleSession")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var stored []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, h)
	}
	raw, ok := parseSessionID(f.cookie.Value)
	if !ok || len(stored) != 1 {
		t.Fatalf("stored %q for cookie %q", stored, f.cookie.Value)
	}
	if stored[0] == f.cookie.Value || strings.Contains(stored[0], f.cookie.Value) || stored[0] != raw {
		t.Errorf("stored %q for cookie %q", stored[0], f.cookie.Value)
	}
	if !f.cookie.HttpOnly || f.cookie.SameSite != http.SameSiteStrictMode || f.cookie.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP", f.cookie)
	}
	sum := sha256.Sum256([]byte(f.cookie.Value))
	if stored[0] == hex.EncodeToString(sum[:]) {
		t.Error("the hash is of the cookie's text, not of the id's bytes")
	}
}

// TestAPIToken: the token, given as a bearer credential, reads and writes; a wrong one
// is refused and counted; a short one is refused at start.
func TestAPIToken(t *testing.T) {
	const token = "api-token-0123456789"
	f := newFixture(t, "sqlite:"+t.TempDir()+"/lars.db", token)
	f.cookie = nil
	if rec := f.post("/hosts/add", addForm, "Authorization", "Bearer wrong-token-0123456789"); rec.Code != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d", rec.Code)
	}
	if rec := f.post("/hosts/add", addForm, "Authorization", "Bearer "+token); rec.Code != http.StatusSeeOther {
		t.Errorf("the token: %d\n%s", rec.Code, rec.Body.String())
	}
	if h := f.history(); len(h) != 1 || !strings.HasPrefix(h[0], "token (lars-console ") {
		t.Errorf("history %q", h)
	}
	if _, err := New(Config{Store: f.db, Token: "short"}); err == nil {
		t.Error("a 5-character token accepted")
	}
}

// TestEnsureAdmin: a first start makes the admin with a random password in a file of
// mode 0600 exactly that logs in; a second start makes none.
func TestEnsureAdmin(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	db, err := store.Open(ctx, "sqlite:"+dir+"/lars.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	path := DefaultInitialPasswordFile("sqlite:" + dir + "/lars.db")
	if path != filepath.Join(dir, InitialPasswordFileName) {
		t.Fatalf("default file %s", path)
	}
	if err := os.WriteFile(path, []byte("stale"), 0o644); err != nil { // left by someone: replaced
		t.Fatal(err)
	}
	made, err := EnsureAdmin(ctx, db, path, bcrypt.MinCost)
	if err != nil || !made {
		t.Fatalf("EnsureAdmin = %v, %v", made, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	b, _ := os.ReadFile(path)
	pw := strings.TrimSpace(string(b))
	a, err := db.Account(ctx, InitialAdmin)
	if err != nil || a.Role != store.RoleAdmin || !PasswordMatches(a.Hash, pw) || len(pw) < 32 {
		t.Fatalf("admin %+v, %v", a, err)
	}
	if made, err := EnsureAdmin(ctx, db, path, bcrypt.MinCost); err != nil || made {
		t.Errorf("a second EnsureAdmin = %v, %v", made, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// FuzzLocalPath: the page a login returns to is always a path of the console.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/service/1/1?x=1", "//evil.example", "https://evil.example", "/\\evil", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := localPath(s)
		u, err := url.Parse(p)
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("localPath(%q) = %q", s, p)
		}
	})
}

// FuzzParseSessionID: only a cookie of exactly a session id's encoding parses, and
// its hash is 64 hex digits.
func FuzzParseSessionID(f *testing.F) {
	f.Add(strings.Repeat("A", 43))
	f.Add("x")
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := parseSessionID(s)
		if ok && (len(s) != 43 || len(h) != 64) {
			t.Fatalf("parseSessionID(%q) = %q", s, h)
		}
	})
}
