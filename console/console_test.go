package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// testTimeout bounds each test's database work.
const testTimeout = 60 * time.Second

// fixture is a console on a fresh store, with the account testAccount (an admin) and
// a session of it that get and post send.
type fixture struct {
	t      *testing.T
	db     *store.DB
	c      *Server
	now    time.Time    // the console's clock, fixed unless a test moves it
	cookie *http.Cookie // the session get and post send; nil for none
}

// The fixture's account and its password.
const (
	testAccount  = "tester"
	testPassword = "tester-password-0123"
)

// newFixture opens dsn and starts a console on it with token (none if "").
func newFixture(t *testing.T, dsn, token string) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db, now: time.Now().Truncate(time.Second)}
	f.c, err = New(Config{Store: db, Token: token, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return f.now },
		HashCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	f.cookie = f.account(testAccount, testPassword, store.RoleAdmin)
	return f
}

// account adds an account and returns the cookie of a session it logged in.
func (f *fixture) account(name, password string, role store.Role) *http.Cookie {
	f.t.Helper()
	if err := f.db.EnsureAccounts(f.ctx()); err != nil {
		f.t.Fatal(err)
	}
	hash, err := HashPassword(password, bcrypt.MinCost)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.AddAccount(f.ctx(), store.Account{Name: name, Role: role, Hash: hash}); err != nil {
		f.t.Fatal(err)
	}
	return f.login(name, password)
}

// login logs name in and returns its session cookie.
func (f *fixture) login(name, password string) *http.Cookie {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"name": {name}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.c.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie && rec.Code == http.StatusSeeOther {
			return c
		}
	}
	f.t.Fatalf("login of %s: status %d\n%s", name, rec.Code, rec.Body.String())
	return nil
}

// ctx returns a context bounded by testTimeout.
func (f *fixture) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	f.t.Cleanup(cancel)
	return ctx
}

// get requests path and returns the status and body.
func (f *fixture) get(path string) (int, string) {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if f.cookie != nil {
		req.AddCookie(f.cookie)
	}
	rec := httptest.NewRecorder()
	f.c.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// post sends form to path with extra headers and returns the recorder.
func (f *fixture) post(path string, form url.Values, header ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if f.cookie != nil {
		req.AddCookie(f.cookie)
	}
	rec := httptest.NewRecorder()
	f.c.ServeHTTP(rec, req)
	return rec
}

// hosts returns the store's hosts of k.
func (f *fixture) hosts(k route.Key) string {
	f.t.Helper()
	r, err := f.db.Routes(f.ctx(), []route.Key{k})
	if err != nil {
		f.t.Fatal(err)
	}
	return route.FormatHostList(r[k])
}

// history returns the store's history, newest first, as "who|op|key|before|after".
func (f *fixture) history() []string {
	f.t.Helper()
	entries, err := f.db.History(f.ctx(), store.HistoryFilter{})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, fmt.Sprintf("%s|%s|%d/%d|%s|%s", e.Who, e.Op, e.Key.Modid, e.Key.Cmdid, route.FormatHostList(e.Before), route.FormatHostList(e.After)))
	}
	return out
}

// mustHost parses "IP:PORT".
func mustHost(t *testing.T, s string) route.Host {
	h, err := route.ParseHostList(s, 0)
	if err != nil || len(h) != 1 {
		t.Fatalf("bad host %q", s)
	}
	return h[0]
}

// ipCol returns IPv4 address s as Lars's ip columns hold it: the unsigned number.
func ipCol(s string) uint32 {
	ip, err := route.ParseWireIP(s)
	if err != nil {
		panic(err)
	}
	return uint32(ip)
}

// seed writes two services with names and call status.
func (f *fixture) seed() {
	f.t.Helper()
	ctx := store.WithWho(f.ctx(), "seed")
	t := f.t
	if _, err := f.db.SetHosts(ctx, route.Key{Modid: 1, Cmdid: 1}, []route.Host{mustHost(t, "10.0.0.1:80"), mustHost(t, "10.0.0.2:80")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.SetHosts(ctx, route.Key{Modid: 2, Cmdid: 7}, []route.Host{mustHost(t, "10.0.9.1:90")}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetModName(ctx, 1, "users <&> accounts"); err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetCmdName(ctx, 1, "lookup"); err != nil {
		t.Fatal(err)
	}
	now := f.now.Unix()
	_, err := f.db.SQL().ExecContext(ctx, `INSERT INTO ServerCallStatus (modid, cmdid, ip, port, caller, succ_cnt, err_cnt, ts, overload) VALUES
		(1, 1, ?, 80, 2130706433, 900, 100, ?, '1'), (1, 1, ?, 80, 2130706434, 50, 0, ?, '0'), (1, 1, ?, 81, 2130706433, 5, 5, ?, '0')`,
		ipCol("10.0.0.1"), now, ipCol("10.0.0.1"), now-30, ipCol("10.0.0.3"), now)
	if err != nil {
		t.Fatal(err)
	}
}

// wantMatch fails unless body matches every pattern.
func wantMatch(t *testing.T, what, body string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(body) {
			t.Errorf("%s does not match %s:\n%s", what, p, body)
		}
	}
}

func TestPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		code, body := f.get("/")
		if code != http.StatusOK || !strings.Contains(body, `id="no-services"`) {
			t.Errorf("services of an empty store: %d\n%s", code, body)
		}
		f.seed()

		code, body = f.get("/")
		if code != http.StatusOK {
			t.Fatalf("services: %d\n%s", code, body)
		}
		wantMatch(t, "services", body,
			`2 services, 3 hosts, 1 overloaded`,
			`(?s)<a href="/service/1/1">1/1</a></td>\s*<td>users &lt;&amp;&gt; accounts · lookup</td>\s*<td class="num">2</td>\s*<td class="num">1</td>\s*<td class="num">9\.9%</td>`,
			`(?s)<td class="num">955 / 105</td>`,
			`(?s)<a href="/service/2/7">2/7</a></td>\s*<td></td>\s*<td class="num">1</td>\s*<td class="num">0</td>`,
			`ago</span>`)
		if i, j := strings.Index(body, "/service/1/1"), strings.Index(body, "/service/2/7"); i < 0 || j < i {
			t.Errorf("services not in key order")
		}
		_, body = f.get("/?sort=hosts&order=desc")
		if i, j := strings.Index(body, `href="/service/1/1"`), strings.Index(body, `href="/service/2/7"`); i < 0 || j < i {
			t.Errorf("sort=hosts desc: 1/1 (2 hosts) not before 2/7 (1 host)")
		}
		_, body = f.get("/?sort=hosts")
		if i, j := strings.Index(body, `href="/service/1/1"`), strings.Index(body, `href="/service/2/7"`); j < 0 || i < j {
			t.Errorf("sort=hosts: 2/7 (1 host) not before 1/1 (2 hosts)")
		}
		_, body = f.get("/?modid=2")
		if strings.Contains(body, `href="/service/1/1"`) || !strings.Contains(body, `href="/service/2/7"`) {
			t.Errorf("modid=2 filter:\n%s", body)
		}
		for path, want := range map[string]string{
			"/?modid=x":        `The modid &#34;x&#34; is not a number from 0 to 2147483647.`,
			"/?modid=-1":       `is not a number from 0 to 2147483647`,
			"/?sort=bogus":     `Unknown sort order bogus`,
			"/service/1/x":     `The cmdid &#34;x&#34; is not a number`,
			"/history?modid=q": `The modid &#34;q&#34; is not a number`,
		} {
			if code, body := f.get(path); code != http.StatusBadRequest || !strings.Contains(body, want) {
				t.Errorf("%s: %d, want 400 and %q:\n%s", path, code, want, body)
			}
		}
		if code, body := f.get("/nowhere"); code != http.StatusNotFound || !strings.Contains(body, "There is no page /nowhere here.") {
			t.Errorf("/nowhere: %d\n%s", code, body)
		}

		code, body = f.get("/service/1/1")
		if code != http.StatusOK {
			t.Fatalf("service 1/1: %d\n%s", code, body)
		}
		wantMatch(t, "service 1/1", body,
			`<b>users &lt;&amp;&gt; accounts</b>`,
			`(?s)data-host="10\.0\.0\.1:80">.*?<td class="num">950</td><td class="num">100</td><td class="num">9\.5%</td>\s*<td><b>yes</b>`,
			`(?s)<td>127\.0\.0\.1</td><td class="num">900</td><td class="num">100</td>`,
			`(?s)<td>127\.0\.0\.2</td><td class="num">50</td>.*?<td>30s</td>`,
			`(?s)data-host="10\.0\.0\.2:80">.*?no status yet`,
			`(?s)data-host="10\.0\.0\.3:81">.*?\(not in the route\)`,
			`<img src="/service/1/1/chart.svg"`,
			`<textarea name="hosts" rows="6" cols="40">10\.0\.0\.1:80\n10\.0\.0\.2:80\n</textarea>`,
			`<td>seed</td><td class="nowrap">set hosts</td>`)
		if strings.Contains(body, `value="10.0.0.3:81"`) {
			t.Error("a host outside the route has a remove button")
		}
		_, body = f.get("/service/2/7")
		if strings.Contains(body, "chart.svg") || !strings.Contains(body, "No call status yet") {
			t.Errorf("service without status shows a chart:\n%s", body)
		}
		rec := httptest.NewRecorder()
		chartReq := httptest.NewRequest(http.MethodGet, "/service/1/1/chart.svg", nil)
		chartReq.AddCookie(f.cookie)
		f.c.ServeHTTP(rec, chartReq)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/svg+xml" ||
			!strings.Contains(rec.Body.String(), "<svg") || !strings.Contains(rec.Body.String(), "10.0.0.3:81") {
			t.Errorf("chart: %d %s\n%.300s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
		}

		code, body = f.get("/history")
		wantMatch(t, "history", body, `(?s)<td>seed</td><td class="nowrap">set hosts</td>\s*<td><a href="/service/2/7">2/7</a></td><td class="hosts"></td><td class="hosts">10\.0\.9\.1:90</td>`)
		_, body = f.get("/history?modid=1&cmdid=1")
		if code != http.StatusOK || strings.Contains(body, "2/7") || !strings.Contains(body, "10.0.0.1:80 10.0.0.2:80") {
			t.Errorf("history of 1/1:\n%s", body)
		}

		code, body = f.get("/names")
		wantMatch(t, "names", body, `value="users &lt;&amp;&gt; accounts"`, `(?s)id="cmdids".*?<td>1</td>.*?value="lookup"`)
		for _, path := range []string{"/static/style.css", "/static/refresh.js", "/static/favicon.svg", "/login"} {
			if code, _ := f.get(path); code != http.StatusOK {
				t.Errorf("%s: %d", path, code)
			}
		}
		if code, body := f.get("/static/"); code != http.StatusNotFound || strings.Contains(body, "style.css") {
			t.Errorf("/static/: %d, want 404 and no directory listing:\n%s", code, body)
		}
		if code != http.StatusOK {
			t.Errorf("names: %d", code)
		}
	})
}

func TestWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		k := route.Key{Modid: 5, Cmdid: 1}
		form := func(kv ...string) url.Values {
			v := url.Values{"modid": {"5"}, "cmdid": {"1"}}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v
		}
		// check sends a write and checks its answer: a redirect to want (a 303) or a page
		// with status and the message want.
		check := func(path string, v url.Values, status int, want string) {
			t.Helper()
			rec := f.post(path, v)
			got := rec.Body.String()
			if rec.Code == http.StatusSeeOther {
				got = rec.Header().Get("Location")
			}
			if rec.Code != status || !strings.Contains(got, want) {
				t.Errorf("POST %s %v: %d, want %d and %q:\n%s", path, v, rec.Code, status, want, got)
			}
		}
		check("/hosts/add", form("ip", "10.1.0.1", "port", "8080"), http.StatusSeeOther, "/service/5/1?done=added&host=10.1.0.1%3A8080")
		check("/hosts/add", form("ip", " 10.1.0.2 ", "port", "81"), http.StatusSeeOther, "done=added")
		if got := f.hosts(k); got != "10.1.0.1:8080 10.1.0.2:81" {
			t.Fatalf("hosts after two adds: %q", got)
		}
		if _, body := f.get("/service/5/1?done=added&host=10.1.0.2%3A81"); !strings.Contains(body, "Added host 10.1.0.2:81.") {
			t.Errorf("flash after add missing")
		}
		if _, body := f.get("/service/5/1?done=added&host=%3Cscript%3E"); strings.Contains(body, "&lt;script") || !strings.Contains(body, "Added host. ") {
			t.Errorf("flash copies the URL")
		}
		// Bad input: the page says what is wrong, keeps what was typed, writes nothing.
		check("/hosts/add", form("ip", "10.1.0.300", "port", "80"), http.StatusBadRequest, `The IP address &#34;10.1.0.300&#34; is not an IPv4 or IPv6 address`)
		check("/hosts/add", form("ip", "::1%eth0", "port", "80"), http.StatusBadRequest, `is not an IPv4 or IPv6 address`)
		check("/hosts/add", form("ip", "10.1.0.3", "port", "65536"), http.StatusBadRequest, `The port &#34;65536&#34; is out of range: give a number from 1 to 65535.`)
		check("/hosts/add", form("ip", "10.1.0.3", "port", "0"), http.StatusBadRequest, `out of range`)
		check("/hosts/add", form("ip", "10.1.0.3", "port", "80x"), http.StatusBadRequest, `value="80x"`)
		check("/hosts/add", form("ip", "10.1.0.1", "port", "8080"), http.StatusBadRequest, "Service 5/1 already has host 10.1.0.1:8080.")
		check("/hosts/add", form("modid", "", "ip", "10.1.0.1", "port", "80"), http.StatusBadRequest, "The modid is missing")
		check("/hosts/add", form("cmdid", "2147483648", "ip", "10.1.0.1", "port", "80"), http.StatusBadRequest, `The cmdid &#34;2147483648&#34; is not a number`)
		check("/hosts/remove", form("host", "10.1.0.9:80"), http.StatusBadRequest, "Service 5/1 has no host 10.1.0.9:80")
		check("/hosts/remove", form("host", "10.1.0.9"), http.StatusBadRequest, `The host &#34;10.1.0.9&#34; is not IP:PORT`)
		check("/hosts/remove", form("cmdid", "9", "host", "10.1.0.1:8080"), http.StatusBadRequest, "Unknown service 5/9: it has no hosts.")
		check("/hosts/set", form("hosts", " \n, "), http.StatusBadRequest, "The host list is empty")
		check("/hosts/set", form("hosts", "10.1.0.1:80\n10.1.0.2"), http.StatusBadRequest, `>10.1.0.1:80
10.1.0.2</textarea>`)
		check("/hosts/set", form("cmdid", "9", "hosts", "10.1.0.1:80"), http.StatusBadRequest, "Unknown service 5/9")
		if got := f.hosts(k); got != "10.1.0.1:8080 10.1.0.2:81" {
			t.Fatalf("bad input changed the hosts: %q", got)
		}
		if n := len(f.history()); n != 2 {
			t.Fatalf("bad input wrote history: %d rows", n)
		}

		check("/hosts/set", form("hosts", "10.1.0.2:81, 10.1.0.3:82\r\n10.1.0.3:82"), http.StatusSeeOther, "done=set&n=2")
		check("/hosts/set", form("hosts", "10.1.0.3:82 10.1.0.2:81"), http.StatusSeeOther, "done=same")
		check("/hosts/remove", form("host", "10.1.0.2:81"), http.StatusSeeOther, "done=removed&host=10.1.0.2%3A81")
		if got := f.hosts(k); got != "10.1.0.3:82" {
			t.Errorf("hosts after set and remove: %q", got)
		}
		who := testAccount + " (lars-console 192.0.2.1)" // the account and httptest.NewRequest's client
		want := []string{
			who + "|delete host|5/1|10.1.0.2:81 10.1.0.3:82|10.1.0.3:82",
			who + "|set hosts|5/1|10.1.0.1:8080 10.1.0.2:81|10.1.0.2:81 10.1.0.3:82",
			who + "|add host|5/1|10.1.0.1:8080|10.1.0.1:8080 10.1.0.2:81",
			who + "|add host|5/1||10.1.0.1:8080",
		}
		if got := f.history(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// Each write is one in Lars's convention: a RouteChange row at the new version.
		changes, err := f.db.ChangesAfter(f.ctx(), 0, 0)
		if err != nil || len(changes) != 4 {
			t.Errorf("RouteChange rows %v, %v; want 4", changes, err)
		}

		// Names.
		check("/names", url.Values{"kind": {"modid"}, "id": {"5"}, "name": {"<b>billing</b>"}}, http.StatusSeeOther, "/names?done=named")
		check("/names", url.Values{"kind": {"cmdid"}, "id": {"1"}, "name": {"charge"}}, http.StatusSeeOther, "done=named")
		check("/names", url.Values{"kind": {"cmdid"}, "id": {"1"}, "name": {"charge card"}}, http.StatusSeeOther, "done=named")
		check("/names", url.Values{"kind": {"table"}, "id": {"1"}, "name": {"x"}}, http.StatusBadRequest, "Choose whether the name is a modid")
		check("/names", url.Values{"kind": {"modid"}, "id": {"-4"}, "name": {"x"}}, http.StatusBadRequest, `The modid &#34;-4&#34; is not a number`)
		check("/names", url.Values{"kind": {"modid"}, "id": {"4"}, "name": {strings.Repeat("n", 256)}}, http.StatusBadRequest, "256 characters, at most 255")
		names, err := f.db.ServiceNames(f.ctx())
		if err != nil || names.Mod[5] != "<b>billing</b>" || names.Cmd[1] != "charge card" || len(names.Mod) != 1 {
			t.Errorf("names %+v, %v", names, err)
		}
		if _, body := f.get("/service/5/1"); !strings.Contains(body, "&lt;b&gt;billing&lt;/b&gt;") || strings.Contains(body, "<b>billing") {
			t.Errorf("a name is not escaped on the service page")
		}
		check("/names", url.Values{"kind": {"modid"}, "id": {"5"}, "name": {""}}, http.StatusSeeOther, "done=named")
		if names, _ := f.db.ServiceNames(f.ctx()); len(names.Mod) != 0 {
			t.Errorf("an empty name did not delete: %v", names.Mod)
		}

		// A new service from the services page's form.
		check("/hosts/add", url.Values{"modid": {"6"}, "cmdid": {"3"}, "ip": {"10.6.0.1"}, "port": {"60"}}, http.StatusSeeOther, "/service/6/3?")
		if got := f.hosts(route.Key{Modid: 6, Cmdid: 3}); got != "10.6.0.1:60" {
			t.Errorf("new service hosts %q", got)
		}
	})
}

func TestCrossOriginWritesRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		v := url.Values{"modid": {"1"}, "cmdid": {"1"}, "ip": {"10.0.0.1"}, "port": {"80"}}
		for _, h := range [][]string{
			{"Sec-Fetch-Site", "cross-site"},
			{"Sec-Fetch-Site", "same-site"},
			{"Origin", "http://evil.example"},
		} {
			rec := f.post("/hosts/add", v, h...)
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "came from another site and was refused") {
				t.Errorf("POST with %v: %d\n%s", h, rec.Code, rec.Body.String())
			}
		}
		if rec := f.post("/names", url.Values{"kind": {"modid"}, "id": {"1"}, "name": {"x"}}, "Sec-Fetch-Site", "cross-site"); rec.Code != http.StatusForbidden {
			t.Errorf("cross-site name write: %d", rec.Code)
		}
		if got := f.hosts(route.Key{Modid: 1, Cmdid: 1}); got != "" {
			t.Errorf("a refused write wrote %q", got)
		}
		if rec := f.post("/hosts/add", v, "Sec-Fetch-Site", "same-origin"); rec.Code != http.StatusSeeOther {
			t.Errorf("same-origin write: %d", rec.Code)
		}
		rec := f.post("/hosts/add", url.Values{"modid": {"1"}, "cmdid": {"1"}, "ip": {"10.0.0.2"}, "port": {"80"}}, "Origin", "http://example.com")
		if rec.Code != http.StatusSeeOther { // httptest's Host is example.com
			t.Errorf("write from the console's own origin: %d\n%s", rec.Code, rec.Body.String())
		}
		// The cross-origin check does not stop reading.
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(f.cookie)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		rr := httptest.NewRecorder()
		f.c.ServeHTTP(rr, req)
		if rr.Code != http.StatusOK || rr.Header().Get("Content-Security-Policy") == "" || rr.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("cross-site GET: %d, headers %v", rr.Code, rr.Header())
		}
	})
}

func TestStoreErrorPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		f.seed()
		f.db.Close()
		for _, path := range []string{"/", "/service/1/1", "/history", "/names"} {
			code, body := f.get(path)
			if code != http.StatusServiceUnavailable || !strings.Contains(body, "The route store (database) failed;") ||
				strings.Contains(body, "database is closed") || strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
				t.Errorf("%s with the database closed: %d\n%s", path, code, body)
			}
		}
		rec := f.post("/hosts/add", url.Values{"modid": {"1"}, "cmdid": {"1"}, "ip": {"10.0.0.9"}, "port": {"80"}})
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "The route store (database) failed") ||
			strings.Contains(rec.Body.String(), "database is closed") {
			t.Errorf("write with the database closed: %d\n%s", rec.Code, rec.Body.String())
		}
		if code, _ := f.get("/service/1/1/chart.svg"); code != http.StatusServiceUnavailable {
			t.Errorf("chart with the database closed: %d", code)
		}
	})
}

func TestCheckToken(t *testing.T) {
	if err := CheckToken(""); err != nil {
		t.Errorf("no token: %v", err)
	}
	if err := CheckToken("0123456789abcdef"); err != nil {
		t.Errorf("16 characters: %v", err)
	}
	if err := CheckToken("0123456789abcde"); err == nil || !strings.Contains(err.Error(), EnvToken) {
		t.Errorf("15 characters: %v", err)
	}
}

func TestNewNeedsStore(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without a store succeeded")
	}
}

func FuzzParseHostList(f *testing.F) {
	for _, s := range []string{"", "10.0.0.1:80", "10.0.0.1:80,10.0.0.2:81\n", "1.2.3.4:0", ":80", "a:b", "1.2.3.4:65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hosts, err := parseHostList(s)
		if err != nil {
			return
		}
		again, err := parseHostList(route.FormatHostList(hosts))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(hosts) {
			t.Errorf("%q: %v does not round-trip: %v, %v", s, hosts, again, err)
		}
		for _, h := range hosts {
			if err := h.Check(); err != nil {
				t.Errorf("%q: host %v accepted: %v", s, h, err)
			}
		}
	})
}

func TestHistoryPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		ctx := store.WithWho(f.ctx(), "pager")
		k := route.Key{Modid: 8, Cmdid: 8}
		for i := range 7 {
			if _, err := f.db.SetHosts(ctx, k, []route.Host{route.FromWire(int32(i+1), 80)}); err != nil {
				t.Fatal(err)
			}
		}
		code, body := f.get("/history?modid=8&n=5")
		next := linkRel(body, "next")
		if code != http.StatusOK || strings.Count(body, "<td>pager</td>") != 5 || !strings.Contains(body, "changes 1-5 of 7") || next == "" || linkRel(body, "prev") != "" {
			t.Fatalf("first page: %d, %d rows, next %q\n%s", code, strings.Count(body, "<td>pager</td>"), next, body)
		}
		code, body = f.get(next)
		prev := linkRel(body, "prev")
		if code != http.StatusOK || strings.Count(body, "<td>pager</td>") != 2 || !strings.Contains(body, "changes 6-7 of 7") ||
			!strings.Contains(body, "<td class=\"hosts\">0.0.0.1:80</td>") || linkRel(body, "next") != "" || prev == "" {
			t.Errorf("second page: %d\n%s", code, body)
		}
		code, body = f.get(prev)
		if code != http.StatusOK || strings.Count(body, "<td>pager</td>") != 5 || !strings.Contains(body, "changes 1-5 of 7") || !strings.Contains(body, "0.0.0.7:80") {
			t.Errorf("back to the first page: %d\n%s", code, body)
		}
		for _, path := range []string{"/history?before=x", "/history?n=0", "/history?n=1001", "/history?n=x"} {
			if code, body := f.get(path); code != http.StatusBadRequest || !strings.Contains(body, "is not a number") {
				t.Errorf("%s: %d", path, code)
			}
		}
	})
}

// linkRel returns the first link of body with rel (a pager's "next" or "prev"), its
// &amp; unescaped, or "".
func linkRel(body, rel string) string {
	m := regexp.MustCompile(`<a href="([^"]*)" rel="` + rel + `">`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

func TestListPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		ctx := store.WithWho(f.ctx(), "pager")
		big := route.Key{Modid: 3, Cmdid: 1}
		var hosts []route.Host
		for i := range 1200 {
			hosts = append(hosts, route.FromWire(int32(10<<24+i), 80))
		}
		if _, err := f.db.SetHosts(ctx, big, hosts); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			k := route.Key{Modid: 4, Cmdid: int32(i)}
			if _, err := f.db.SetHosts(ctx, k, hosts[:i+1]); err != nil {
				t.Fatal(err)
			}
			if err := f.db.SetCmdName(ctx, int32(i), fmt.Sprintf("cmd %d", i)); err != nil {
				t.Fatal(err)
			}
		}

		// Services: 6 keys, two a page, sorted by hosts descending.
		code, body := f.get("/?sort=hosts&order=desc&n=2")
		if code != http.StatusOK || !strings.Contains(body, "services 1-2 of 6") || !strings.Contains(body, `href="/service/3/1"`) ||
			!strings.Contains(body, `href="/service/4/4"`) || strings.Contains(body, `href="/service/4/3"`) {
			t.Fatalf("first services page: %d\n%s", code, body)
		}
		code, body = f.get(linkRel(body, "next"))
		if code != http.StatusOK || !strings.Contains(body, "services 3-4 of 6") || !strings.Contains(body, `href="/service/4/3"`) ||
			!strings.Contains(body, `href="/service/4/2"`) || linkRel(body, "prev") != "/?n=2&order=desc&sort=hosts" {
			t.Errorf("second services page: %d, prev %q\n%s", code, linkRel(body, "prev"), body)
		}
		if _, body = f.get("/?modid=4&n=2&from=5"); !strings.Contains(body, "services 5-5 of 5") || !strings.Contains(body, `href="/service/4/4"`) {
			t.Errorf("last page of modid 4:\n%s", body)
		}
		if _, body = f.get("/?from=100"); !strings.Contains(body, "no services here: 6 in all") || linkRel(body, "prev") != "/" {
			t.Errorf("past the end:\n%s", body)
		}

		// The 1,200 hosts of the big route, 100 a page; the replace form is left empty.
		code, body = f.get("/service/3/1")
		if code != http.StatusOK || !strings.Contains(body, "hosts 1-100 of 1,200") || strings.Count(body, `data-host=`) != 100 ||
			!strings.Contains(body, "too many to show here") || strings.Contains(body, "10.0.4.175:80") {
			t.Fatalf("big service page: %d, %d hosts\n%.2000s", code, strings.Count(body, `data-host=`), body)
		}
		code, body = f.get("/service/3/1?from=1101")
		if code != http.StatusOK || !strings.Contains(body, "hosts 1,101-1,200 of 1,200") || !strings.Contains(body, `data-host="10.0.4.175:80"`) || linkRel(body, "next") != "" {
			t.Errorf("last hosts page: %d\n%.2000s", code, body)
		}
		// The history row of the big route lists ten hosts and counts the rest.
		if !strings.Contains(body, "10.0.0.9:80 … and 1,190 more") {
			t.Errorf("history row of 1,200 hosts not cut:\n%s", body)
		}
		if code, _ := f.get("/service/3/1?n=5000"); code != http.StatusBadRequest {
			t.Errorf("n=5000: %d, want 400", code)
		}

		// Names: five cmdids, two a page.
		code, body = f.get("/names?n=2&cmdfrom=3")
		if code != http.StatusOK || !strings.Contains(body, "cmdids 3-4 of 5") || !strings.Contains(body, `value="cmd 2"`) || strings.Contains(body, `value="cmd 4"`) {
			t.Errorf("names page: %d\n%s", code, body)
		}

		// Each bound that acted is counted by its cause.
		var m strings.Builder
		f.c.WriteMetrics(&m)
		for _, cause := range []string{"services_page", "hosts_page", "history_hosts", "replace_form", "names_page", "page_size_over"} {
			if !regexp.MustCompile(`lars_console_cut_total\{cause="` + cause + `"\} [1-9]`).MatchString(m.String()) {
				t.Errorf("cause %s not counted:\n%s", cause, m.String())
			}
		}
	})
}

func TestWritesWeightsZonesIPv6(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		k := route.Key{Modid: 6, Cmdid: 1}
		post := func(path string, status int, kv ...string) string {
			t.Helper()
			v := url.Values{"modid": {"6"}, "cmdid": {"1"}}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			rec := f.post(path, v)
			if rec.Code != status {
				t.Fatalf("POST %s %v: %d, want %d:\n%s", path, v, rec.Code, status, rec.Body.String())
			}
			return rec.Body.String()
		}
		post("/hosts/add", http.StatusSeeOther, "ip", "10.1.0.1", "port", "80")
		post("/hosts/set", http.StatusSeeOther, "hosts", "10.1.0.1:80;weight=200 [2001:db8::1]:80;zone=eu")
		post("/hosts/add", http.StatusSeeOther, "ip", "2001:db8::2", "port", "81")
		if got, want := f.hosts(k), "10.1.0.1:80;weight=200 [2001:db8::1]:80;zone=eu [2001:db8::2]:81"; got != want {
			t.Fatalf("hosts %q, want %q", got, want)
		}
		if code, body := f.get("/service/6/1"); code != http.StatusOK || !strings.Contains(body, "[2001:db8::1]:80;zone=eu") || !strings.Contains(body, "10.1.0.1:80;weight=200") {
			t.Errorf("service page %d lacks the hosts:\n%s", code, body)
		}
		post("/hosts/remove", http.StatusSeeOther, "host", "[2001:db8::1]:80;zone=eu")
		post("/hosts/set", http.StatusBadRequest, "hosts", "2001:db8::1:80")
		post("/hosts/set", http.StatusBadRequest, "hosts", "10.1.0.1:80;weight=0")
		if got, want := f.hosts(k), "10.1.0.1:80;weight=200 [2001:db8::2]:81"; got != want {
			t.Errorf("hosts %q, want %q", got, want)
		}
	})
}

func TestAddHostWeightZone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		k := route.Key{Modid: 7, Cmdid: 2}
		form := func(ip, port, weight, zone string) url.Values {
			return url.Values{"modid": {"7"}, "cmdid": {"2"}, "ip": {ip}, "port": {port}, "weight": {weight}, "zone": {zone}}
		}
		// check sends an add and checks its answer: a redirect whose Location holds want
		// (a 303) or a page with status and the message want; it returns the Location.
		check := func(v url.Values, status int, want string) string {
			t.Helper()
			rec := f.post("/hosts/add", v)
			got := rec.Body.String()
			if rec.Code == http.StatusSeeOther {
				got = rec.Header().Get("Location")
			}
			if rec.Code != status || !strings.Contains(got, want) {
				t.Errorf("POST /hosts/add %v: %d, want %d and %q:\n%s", v, rec.Code, status, want, got)
			}
			return got
		}
		check(form("10.2.0.1", "80", "200", "eu-west-1"), http.StatusSeeOther, "done=added&host=10.2.0.1%3A80%3Bweight%3D200%3Bzone%3Deu-west-1")
		check(form(" 10.2.0.2 ", "80", " 1 ", ""), http.StatusSeeOther, "done=added")
		check(form("10.2.0.3", "80", "", " us.b_2 "), http.StatusSeeOther, "done=added")
		check(form("10.2.0.4", "80", "10000", ""), http.StatusSeeOther, "done=added")
		check(form("2001:db8::1", "8080", "", ""), http.StatusSeeOther, "done=added&host=%5B2001%3Adb8%3A%3A1%5D%3A8080")
		check(form("[2001:db8::2]", "8080", "50", "eu"), http.StatusSeeOther, "done=added")
		want := "10.2.0.1:80;weight=200;zone=eu-west-1 10.2.0.2:80;weight=1 10.2.0.3:80;zone=us.b_2 10.2.0.4:80;weight=10000 [2001:db8::1]:8080 [2001:db8::2]:8080;weight=50;zone=eu"
		if got := f.hosts(k); got != want {
			t.Fatalf("hosts after the adds: %q, want %q", got, want)
		}

		// Bad weights and zones: the page says what is wrong, keeps what was typed,
		// writes nothing.
		for _, w := range []string{"0", "10001", "-1", "1.5", "x", "99999999999"} {
			check(form("10.2.0.9", "80", w, ""), http.StatusBadRequest, "The weight &#34;"+w+"&#34; is not a number from 1 to 10000: leave it empty for the default weight, 100.")
		}
		for _, z := range []string{"eu west", "eu;weight=9", "zone/1", "é", strings.Repeat("z", 65)} {
			check(form("10.2.0.9", "80", "", z), http.StatusBadRequest, "is not a zone name: give 1 to 64 letters, digits, &#39;.&#39;, &#39;-&#39; or &#39;_&#39;")
		}
		body := check(form("10.2.0.9", "80", "70000", "a b"), http.StatusBadRequest, "The weight &#34;70000&#34;")
		wantMatch(t, "refused add", body, `name="ip" value="10\.2\.0\.9"`, `name="weight" value="70000"`, `name="zone" value="a b"`)
		check(form("2001:db8::1:8080", "", "", ""), http.StatusBadRequest, "The port &#34;&#34; is out of range")
		check(form("2001:db8::1%eth0", "80", "", ""), http.StatusBadRequest, "is not an IPv4 or IPv6 address")
		check(form("10.2.0.1", "80", "200", "eu-west-1"), http.StatusBadRequest, "Service 7/2 already has host 10.2.0.1:80;weight=200;zone=eu-west-1.")
		if got := f.hosts(k); got != want {
			t.Fatalf("bad input changed the hosts: %q", got)
		}
		if n := len(f.history()); n != 6 {
			t.Fatalf("bad input wrote history: %d rows, want 6", n)
		}

		// An address the service has, with another weight or zone: set, and said so.
		loc := check(form("10.2.0.1", "80", "300", ""), http.StatusSeeOther, "done=changed&host=10.2.0.1%3A80%3Bweight%3D300&was=10.2.0.1%3A80%3Bweight%3D200%3Bzone%3Deu-west-1")
		if _, body := f.get(loc); !strings.Contains(body, "Set host 10.2.0.1:80 to weight 300, no zone (it had weight 200, zone eu-west-1).") {
			t.Errorf("flash after setting a weight:\n%s", body)
		}
		loc = check(form("2001:db8::2", "8080", "", ""), http.StatusSeeOther, "done=changed")
		if _, body := f.get(loc); !strings.Contains(body, "Set host [2001:db8::2]:8080 to the default weight, no zone (it had weight 50, zone eu).") {
			t.Errorf("flash after clearing a weight and zone:\n%s", body)
		}
		// The flash is built from checked values only.
		if _, body := f.get("/service/7/2?done=changed&host=10.2.0.1%3A80&was=%3Cscript%3E"); strings.Contains(body, "&lt;script") || !strings.Contains(body, "Set the host&#39;s weight and zone.") {
			t.Errorf("flash copies the URL:\n%s", body)
		}
		if _, body := f.get("/service/7/2?done=changed&host=10.2.0.1%3A80&was=10.2.0.2%3A80"); !strings.Contains(body, "Set the host&#39;s weight and zone.") {
			t.Errorf("flash of a host and another address's old value")
		}
		a1 := "10.2.0.1:80;weight=300 10.2.0.2:80;weight=1 10.2.0.3:80;zone=us.b_2 10.2.0.4:80;weight=10000 [2001:db8::1]:8080 [2001:db8::2]:8080;weight=50;zone=eu"
		a2 := "10.2.0.1:80;weight=300 10.2.0.2:80;weight=1 10.2.0.3:80;zone=us.b_2 10.2.0.4:80;weight=10000 [2001:db8::1]:8080 [2001:db8::2]:8080"
		if got := f.hosts(k); got != a2 {
			t.Fatalf("hosts after the sets: %q, want %q", got, a2)
		}
		who := testAccount + " (lars-console 192.0.2.1)"
		hist := f.history()
		if len(hist) != 8 || hist[0] != who+"|add host|7/2|"+a1+"|"+a2 || hist[1] != who+"|add host|7/2|"+want+"|"+a1 {
			t.Errorf("history of the sets:\n%s", strings.Join(hist, "\n"))
		}

		// The host table shows weight and zone in their own columns.
		code, body := f.get("/service/7/2")
		if code != http.StatusOK {
			t.Fatalf("service 7/2: %d", code)
		}
		wantMatch(t, "service 7/2", body,
			`(?s)data-host="10\.2\.0\.1:80">\s*<td><b>10\.2\.0\.1:80</b>.*?</td>\s*<td class="num weight">300</td><td class="zone">-</td>`,
			`(?s)data-host="10\.2\.0\.2:80">.*?<td class="num weight">1</td><td class="zone">-</td>`,
			`(?s)data-host="10\.2\.0\.3:80">.*?<td class="num weight">default \(100\)</td><td class="zone">us\.b_2</td>`,
			`(?s)data-host="\[2001:db8::1\]:8080">\s*<td><b>\[2001:db8::1\]:8080</b>.*?<td class="num weight">default \(100\)</td><td class="zone">-</td>`,
			`<th class="num">Weight</th><th>Zone</th>`,
			`aria-label="remove \[2001:db8::1\]:8080"`,
			`name="host" value="10\.2\.0\.3:80;zone=us\.b_2"`)
		if rec := f.post("/hosts/remove", url.Values{"modid": {"7"}, "cmdid": {"2"}, "host": {"10.2.0.3:80;zone=us.b_2"}}); rec.Code != http.StatusSeeOther {
			t.Errorf("remove of a host with a zone: %d\n%s", rec.Code, rec.Body.String())
		}
		if got := f.hosts(k); strings.Contains(got, "10.2.0.3") {
			t.Errorf("hosts after the remove: %q", got)
		}
	})
}
