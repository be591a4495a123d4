package hostile

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConsoleWriteNeedsSession: the "any local user can write": a POST to the
// default console, from its own origin and Host, with no credential, is refused and
// writes nothing; so is every page read. Before issue 27 (84122b4) the write got 303
// and wrote 6.6.6.2:2 (LARS_CONSOLE_BIN=lars-console built at 84122b4 shows it).
// Against the new binary: the first start's password file is 0600, the admin logs in
// with it and writes, and wrong passwords engage the login limit, counted.
func TestConsoleWriteNeedsSession(t *testing.T) {
	requireHostile(t)
	pwFile := filepath.Join(t.TempDir(), "initial-password")
	addr, adminAddr, path := guardConsole(t, "-initial-password-file", pwFile)
	status := guardPost(t, addr, addr, "Origin", "http://"+addr, "Sec-Fetch-Site", "same-origin")
	written := guardWritten(t, path)
	t.Logf("a write with no session: status %d, hosts of 1/1 now %q", status, written)
	if status == http.StatusSeeOther || written != "" {
		t.Fatalf("a write with no session: status %d, wrote %q; want refused, nothing written", status, written)
	}
	client := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(p string, cookies ...*http.Cookie) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+p, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := get("/history")
	t.Logf("GET /history with no session: status %d", resp.StatusCode)
	if resp.StatusCode == http.StatusOK {
		t.Errorf("GET /history with no session: 200, want the login page")
	}
	if adminAddr == "" {
		return // an older binary: no accounts
	}
	if status != http.StatusUnauthorized {
		t.Errorf("a write with no session: status %d, want 401", status)
	}
	guardCounted(t, adminAddr, `lars_console_denied_total{cause="no_session"}`, 2)
	fi, err := os.Stat(pwFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("initial password file: %v, %v; want mode 0600", fi, err)
	}
	pw, _ := os.ReadFile(pwFile)
	login := func(password string) *http.Response {
		t.Helper()
		resp, err := client.PostForm("http://"+addr+"/login", url.Values{"name": {"admin"}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp = login(strings.TrimSpace(string(pw)))
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("login as admin: status %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	session := resp.Cookies()[0]
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict", session)
	}
	if status := guardPost(t, addr, addr, "Origin", "http://"+addr, "Cookie", session.String()); status != http.StatusSeeOther || guardWritten(t, path) != "6.6.6.2:2" {
		t.Fatalf("the admin's write: status %d, hosts %q", status, guardWritten(t, path))
	}
	// Guessing admin's password: the account's limit (5 failures, then one each 30 s)
	// or the client's (10) engages within a few tries, whatever the speed.
	limited := 0
	for i := 0; i < 50 && limited == 0; i++ {
		if login("guess-"+string(rune('a'+i%26))).StatusCode == http.StatusTooManyRequests {
			limited = i + 1
		}
	}
	t.Logf("wrong passwords: refused as too many at try %d", limited)
	if limited == 0 || limited > 11 {
		t.Errorf("wrong passwords: limited at try %d, want by the 11th", limited)
	}
	if login(strings.TrimSpace(string(pw))).StatusCode != http.StatusTooManyRequests {
		t.Error("the right password from a limited client: not refused")
	}
	guardCounted(t, adminAddr, `lars_console_logins_total{result="limited"}`, 2)
	guardCounted(t, adminAddr, `lars_console_logins_total{result="failed"}`, 5)
	// Logout ends the session: its cookie no longer writes.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/logout", nil)
	req.AddCookie(session)
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %v, %v", resp, err)
	}
	_, port, _ := net.SplitHostPort(addr)
	if status := guardPost(t, addr, "localhost:"+port, "Cookie", session.String()); status != http.StatusUnauthorized {
		t.Errorf("a write with the session after logout: status %d, want 401", status)
	}
}
