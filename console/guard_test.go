package console

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/larsgo/lars/route"
)

// guardToken is the token of the guarded consoles that have one.
const guardToken = "guard-test-token-0123456789"

// guarded returns a console on a fresh store behind the guard of o.
func guarded(t *testing.T, token string, o GuardOptions) (*fixture, http.Handler) {
	t.Helper()
	f := newFixture(t, "sqlite:"+t.TempDir()+"/lars.db", token)
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8080"
	}
	g, err := NewGuard(o)
	if err != nil {
		t.Fatal(err)
	}
	return f, g.Server(f.c).Handler
}

// send serves a POST of form to path from peer with headers (name, value, ...), the
// Host being host.
func send(h http.Handler, host, peer, path string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "http://"+host+path, strings.NewReader(form.Encode()))
	req.Host = host
	req.RemoteAddr = peer
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// probeForm is the DNS-rebinding write: host 6.6.6.2:2 into 1/1.
var probeForm = url.Values{"modid": {"1"}, "cmdid": {"1"}, "ip": {"6.6.6.2"}, "port": {"2"}}

// TestRebindingWriteRefused: the probe (a POST from a page of a foreign name
// that resolves to loopback: same-origin to the browser) is refused with 421 and writes
// nothing; the same request naming the console's own address writes.
func TestRebindingWriteRefused(t *testing.T) {
	f, h := guarded(t, "", GuardOptions{})
	k := route.Key{Modid: 1, Cmdid: 1}
	rec := send(h, "rebind.attacker.example:8080", "127.0.0.1:40000", "/hosts/add", probeForm,
		"Origin", "http://rebind.attacker.example:8080", "Sec-Fetch-Site", "same-origin")
	if rec.Code != http.StatusMisdirectedRequest {
		t.Fatalf("rebinding POST: status %d, want 421", rec.Code)
	}
	if got := f.hosts(k); got != "" {
		t.Fatalf("rebinding POST wrote %q", got)
	}
	if h := f.history(); len(h) != 0 {
		t.Fatalf("rebinding POST left history %q", h)
	}
	rec = send(h, "127.0.0.1:8080", "127.0.0.1:40000", "/hosts/add", probeForm, "Origin", "http://127.0.0.1:8080", "Sec-Fetch-Site", "same-origin",
		"Cookie", f.cookie.String())
	if rec.Code != http.StatusSeeOther || f.hosts(k) != "6.6.6.2:2" {
		t.Fatalf("the same POST to 127.0.0.1:8080: status %d, hosts %q; want 303 and the host", rec.Code, f.hosts(k))
	}
}

// TestForwardedFromUntrustedIgnored: a forwarded header from a peer that is not a
// trusted proxy does not name the writer; from a trusted proxy it does.
func TestForwardedFromUntrustedIgnored(t *testing.T) {
	f, h := guarded(t, guardToken, GuardOptions{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	form := url.Values{"modid": {"1"}, "cmdid": {"1"}, "ip": {"10.9.9.1"}, "port": {"80"}}
	if rec := send(h, "127.0.0.1:8080", "192.0.2.7:5555", "/hosts/add", form, "X-Forwarded-For", "203.0.113.66", "Cookie", f.cookie.String()); rec.Code != http.StatusSeeOther {
		t.Fatalf("write from an untrusted peer: status %d", rec.Code)
	}
	form.Set("port", "81")
	if rec := send(h, "127.0.0.1:8080", "10.1.1.1:5555", "/hosts/add", form, "X-Forwarded-For", "203.0.113.9", "Authorization", "Bearer "+guardToken); rec.Code != http.StatusSeeOther {
		t.Fatalf("write through a trusted proxy: status %d", rec.Code)
	}
	hist := f.history()
	if len(hist) != 2 || !strings.HasPrefix(hist[1], testAccount+" (lars-console 192.0.2.7)|") || !strings.HasPrefix(hist[0], "token (lars-console 203.0.113.9 via 10.1.1.1)|") {
		t.Fatalf("writers in history: %q", hist)
	}
}

// TestUndeclaredProxyWriteRefused: a write without a session that carries forwarded
// headers from a peer not declared a proxy (a proxy nobody told the console of) is
// refused, as every write without a session is.
func TestUndeclaredProxyWriteRefused(t *testing.T) {
	f, h := guarded(t, "", GuardOptions{})
	rec := send(h, "127.0.0.1:8080", "127.0.0.1:40000", "/hosts/add", probeForm, "X-Forwarded-For", "198.51.100.4")
	if rec.Code != http.StatusUnauthorized || f.hosts(route.Key{Modid: 1, Cmdid: 1}) != "" {
		t.Fatalf("write through an undeclared proxy: status %d, hosts %q; want 401 and none", rec.Code, f.hosts(route.Key{Modid: 1, Cmdid: 1}))
	}
}

// TestSecureCookieBehindProxy: the session cookie is Secure behind a declared TLS proxy
// (-behind-proxy) and when a trusted proxy says the client used https; not when an
// untrusted peer says so.
func TestSecureCookieBehindProxy(t *testing.T) {
	login := url.Values{"name": {testAccount}, "password": {testPassword}}
	cookie := func(rec *httptest.ResponseRecorder) *http.Cookie {
		t.Helper()
		for _, c := range rec.Result().Cookies() {
			if c.Name == sessionCookie {
				return c
			}
		}
		t.Fatalf("login: status %d, no cookie", rec.Code)
		return nil
	}
	_, h := guarded(t, guardToken, GuardOptions{BehindProxy: true})
	if c := cookie(send(h, "127.0.0.1:8080", "127.0.0.1:40000", "/login", login)); !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("behind a declared proxy: cookie %+v, want Secure, HttpOnly, SameSite=Strict", c)
	}
	_, h = guarded(t, guardToken, GuardOptions{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if c := cookie(send(h, "127.0.0.1:8080", "127.0.0.1:40000", "/login", login, "X-Forwarded-Proto", "https")); !c.Secure {
		t.Error("https through a trusted proxy: cookie not Secure")
	}
	if c := cookie(send(h, "127.0.0.1:8080", "127.0.0.1:40000", "/login", login)); c.Secure {
		t.Error("plain http through a trusted proxy: cookie Secure")
	}
	if c := cookie(send(h, "127.0.0.1:8080", "192.0.2.7:40000", "/login", login, "X-Forwarded-Proto", "https")); c.Secure {
		t.Error("https said by an untrusted peer: cookie Secure")
	}
}

// TestBodyBoundEverywhere: a body over MaxBodyBytes is refused on the login page and
// on a path that does not exist, as on a write.
func TestBodyBoundEverywhere(t *testing.T) {
	_, h := guarded(t, guardToken, GuardOptions{})
	big := url.Values{"token": {strings.Repeat("x", MaxBodyBytes)}}
	for _, p := range []string{"/login", "/hosts/add", "/no/such/page"} {
		if rec := send(h, "127.0.0.1:8080", "127.0.0.1:40000", p, big); rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s of over 1 MiB: status %d, want 413", p, rec.Code)
		}
	}
}
