package httpguard

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// newGuard returns a Guard for cfg (Prefix set), failing t on error.
func newGuard(t *testing.T, cfg Config) *Guard {
	t.Helper()
	cfg.Prefix = "lars_test_http"
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// newRequest is httptest.NewRequest for the Host "localhost".
func newRequest(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.Host = "localhost"
	return r
}

// recorder is a handler that notes whether it ran and what it read.
type recorder struct {
	ran    bool
	body   string
	err    error
	client Client
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.ran = true
	var b []byte
	b, rec.err = io.ReadAll(r.Body)
	rec.body = string(b)
	rec.client, _ = ClientOf(r)
	w.WriteHeader(http.StatusSeeOther)
}

// TestRebindingRefused: the probe, a POST whose Host is a foreign name with a
// same-origin Origin, is refused with 421 before the handler runs, and counted.
func TestRebindingRefused(t *testing.T) {
	g := newGuard(t, Config{Listen: "127.0.0.1:8080"})
	rec := &recorder{}
	h := g.Wrap(rec)
	req := newRequest("POST", "http://127.0.0.1:8080/hosts/add", strings.NewReader("modid=1&cmdid=1&ip=6.6.6.2&port=2"))
	req.Host = "rebind.attacker.example:8080"
	req.Header.Set("Origin", "http://rebind.attacker.example:8080")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusMisdirectedRequest || rec.ran {
		t.Fatalf("rebinding POST: status %d, handler ran %v; want 421 and not run", w.Code, rec.ran)
	}
	if n := g.Refused(CauseHost); n != 1 {
		t.Fatalf("refused{host} = %d, want 1", n)
	}
}

func TestHostsAnswered(t *testing.T) {
	g := newGuard(t, Config{Listen: "console.internal:8080", AllowedHosts: []string{"lars.example.com", "10.1.2.3"}})
	for host, want := range map[string]bool{
		"localhost": true, "localhost:8080": true, "LOCALHOST.:8080": true, "127.0.0.1:8080": true, "127.9.9.9": true,
		"[::1]:8080": true, "[::1]": true, "console.internal:8080": true, "lars.example.com": true, "Lars.Example.Com.:443": true,
		"10.1.2.3:8080": true, "[::ffff:127.0.0.1]:80": true,
		"": false, "rebind.attacker.example": false, "lars.example.com.attacker.example": false, "10.1.2.4:8080": false,
		"localhost:notaport": false, "0.0.0.0:8080": false, "192.0.2.10:8080": false,
	} {
		req := newRequest("GET", "/metrics", nil)
		req.Host = host
		if got := g.hostAllowed(req); got != want {
			t.Errorf("Host %q answered %v, want %v", host, got, want)
		}
	}
}

// TestHostOfLocalAddress: on every interface, a Host that is the address the
// connection came in on is answered; another address is not.
func TestHostOfLocalAddress(t *testing.T) {
	g := newGuard(t, Config{Listen: ":8080"})
	srv := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer srv.Close()
	if g.hosts[""] {
		t.Fatal("the empty host of a listen address on every interface is answered")
	}
	for host, want := range map[string]int{srv.Listener.Addr().String(): 200, "192.0.2.10:8080": 421} {
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		req.Host = host
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: status %d, want %d", host, resp.StatusCode, want)
		}
	}
}

func TestToken(t *testing.T) {
	g := newGuard(t, Config{Token: "s3cret-admin-token"})
	rec := &recorder{}
	h := g.Wrap(rec)
	for auth, want := range map[string]int{"": 401, "Bearer wrong": 401, "Basic s3cret-admin-token": 401, "Bearer s3cret-admin-token": 303, "bearer s3cret-admin-token": 303, "Bearer ": 401} {
		req := newRequest("GET", "/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("Authorization %q: status %d, want %d", auth, w.Code, want)
		}
		if want == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: 401 without WWW-Authenticate", auth)
		}
	}
	if n := g.Refused(CauseToken); n != 4 {
		t.Errorf("refused{token} = %d, want 4", n)
	}
}

// TestBodyBound: a body over the bound is refused before the handler when its length
// is declared, and cut (and counted) when it is chunked, on any path.
func TestBodyBound(t *testing.T) {
	g := newGuard(t, Config{Limits: Limits{MaxBodyBytes: 16}})
	rec := &recorder{}
	h := g.Wrap(rec)
	for _, path := range []string{"/login", "/no/such/page"} {
		rec.ran = false
		w := httptest.NewRecorder()
		h.ServeHTTP(w, newRequest("POST", path, strings.NewReader(strings.Repeat("x", 17))))
		if w.Code != http.StatusRequestEntityTooLarge || rec.ran {
			t.Errorf("POST %s of 17 bytes: status %d, handler ran %v; want 413, not run", path, w.Code, rec.ran)
		}
	}
	req := newRequest("POST", "/login", io.MultiReader(strings.NewReader(strings.Repeat("y", 40))))
	req.ContentLength = -1
	h.ServeHTTP(httptest.NewRecorder(), req)
	if rec.err == nil || len(rec.body) > 16 {
		t.Errorf("chunked body of 40 bytes: read %d bytes, err %v; want at most 16 and an error", len(rec.body), rec.err)
	}
	if n := g.Refused(CauseBody); n != 3 {
		t.Errorf("refused{body} = %d, want 3", n)
	}
	req = newRequest("POST", "/login", strings.NewReader("token=abc"))
	h.ServeHTTP(httptest.NewRecorder(), req)
	if rec.err != nil || rec.body != "token=abc" {
		t.Errorf("small body: read %q, %v", rec.body, rec.err)
	}
}

// TestForwardedFromUntrustedIgnored: forwarded headers from a peer not trusted do not
// change the client, are removed and are counted; from a trusted proxy they name the
// client and its protocol.
func TestForwardedFromUntrustedIgnored(t *testing.T) {
	g := newGuard(t, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	rec := &recorder{}
	h := g.Wrap(rec)
	req := newRequest("GET", "/", nil)
	req.RemoteAddr = "192.0.2.7:5555"
	req.Header.Set("X-Forwarded-For", "127.0.0.1")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("Forwarded", "for=127.0.0.1;proto=https")
	h.ServeHTTP(httptest.NewRecorder(), req)
	want := Client{IP: netip.MustParseAddr("192.0.2.7"), Peer: netip.MustParseAddr("192.0.2.7"), UntrustedForward: true}
	if rec.client != want {
		t.Errorf("untrusted peer: client %+v, want %+v", rec.client, want)
	}
	if req.Header.Get("X-Forwarded-For") != "" || g.forwardIgnored.Get() != 1 {
		t.Errorf("forwarded headers kept (%q) or not counted (%d)", req.Header.Get("X-Forwarded-For"), g.forwardIgnored.Get())
	}
	for _, c := range []struct {
		name, header, value, proto string
		ip                         string
		secure                     bool
	}{
		{"xff", "X-Forwarded-For", "203.0.113.9", "https", "203.0.113.9", true},
		{"xff spoofed left", "X-Forwarded-For", "127.0.0.1, 203.0.113.9, 10.2.2.2", "http", "203.0.113.9", false},
		{"xff garbage", "X-Forwarded-For", "203.0.113.9, junk", "", "10.1.1.1", false},
		{"forwarded", "Forwarded", `for="[2001:db8::1]:4711";proto=https, for=10.2.2.2;proto=http`, "", "2001:db8::1", true},
		{"forwarded unknown", "Forwarded", "for=unknown;proto=https", "", "10.1.1.1", true},
		{"none", "", "", "", "10.1.1.1", false},
	} {
		req := newRequest("GET", "/", nil)
		req.RemoteAddr = "10.1.1.1:4444"
		if c.header != "" {
			req.Header.Set(c.header, c.value)
		}
		if c.proto != "" {
			req.Header.Set("X-Forwarded-Proto", c.proto)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if rec.client.IP.String() != c.ip || rec.client.Secure != c.secure || !rec.client.Proxied {
			t.Errorf("%s: client %+v, want IP %s secure %v proxied", c.name, rec.client, c.ip, c.secure)
		}
	}
}

// TestBehindProxySecure: under BehindProxy every request counts as secure.
func TestBehindProxySecure(t *testing.T) {
	g := newGuard(t, Config{BehindProxy: true})
	rec := &recorder{}
	g.Wrap(rec).ServeHTTP(httptest.NewRecorder(), newRequest("GET", "/", nil))
	if !rec.client.Secure {
		t.Fatal("behind a declared proxy: not secure")
	}
}

// TestConnCap: past MaxConns a new connection is closed at once and counted; closing
// one frees its place.
func TestConnCap(t *testing.T) {
	g := newGuard(t, Config{Limits: Limits{MaxConns: 2}})
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := g.Listener(raw)
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	dial()
	first, second := <-accepted, <-accepted
	defer second.Close()
	third := dial()
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Fatal("the connection past the cap was not closed")
	}
	if n := g.Refused(CauseConns); n != 1 {
		t.Fatalf("refused{conns} = %d, want 1", n)
	}
	if n := g.connsOpen.Get(); n != 2 {
		t.Fatalf("conns_open = %d, want 2", n)
	}
	first.Close()
	first.Close() // a second close frees nothing more
	dial()
	fourth := <-accepted
	defer fourth.Close()
	if n := g.connsOpen.Get(); n != 2 {
		t.Fatalf("conns_open after a close and a new connection = %d, want 2", n)
	}
}

// serveGuarded serves h behind g on a loopback listener and returns its address.
func serveGuarded(t *testing.T, g *Guard, h http.Handler) string {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := g.Server(h)
	go srv.Serve(g.Listener(raw))
	t.Cleanup(func() { srv.Close() })
	return raw.Addr().String()
}

// TestServerBounds: the server has the timeouts and header bound; a header that never
// ends is cut at ReadHeaderTimeout, and one over MaxHeaderBytes is refused (431).
func TestServerBounds(t *testing.T) {
	g := newGuard(t, Config{})
	srv := g.Server(http.NotFoundHandler())
	if srv.ReadHeaderTimeout != DefaultReadHeaderTimeout || srv.ReadTimeout != DefaultReadTimeout || srv.WriteTimeout != DefaultWriteTimeout ||
		srv.IdleTimeout != DefaultIdleTimeout || srv.MaxHeaderBytes != DefaultMaxHeaderBytes {
		t.Fatalf("server bounds %v %v %v %v %d", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	g = newGuard(t, Config{Limits: Limits{ReadHeaderTimeout: 50 * time.Millisecond, MaxHeaderBytes: 4 << 10}})
	addr := serveGuarded(t, g, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "GET / HTTP/1.1\r\nHost: localhost\r\n")
	if _, err := io.ReadAll(slow); err != nil {
		t.Fatalf("a header that never ends: %v, want the connection closed", err)
	}
	big, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	io.WriteString(big, "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: "+strings.Repeat("b", 64<<10)+"\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(big), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("a 64 KiB header: status %d, want 431", resp.StatusCode)
	}
}

func TestNewNeedsPrefix(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a prefix succeeded")
	}
}
