package hostile

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// guardConsole starts lars-console (or the binary consoleEnvBin names) on a fresh
// SQLite store with the extra args and returns its address, its admin address ("" for
// an older binary) and the store's path. The extra args are given to the new binary
// only.
func guardConsole(t *testing.T, extra ...string) (addr, adminAddr, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "lars.db")
	bin := os.Getenv(consoleEnvBin)
	args := []string{"-db", "sqlite:" + path}
	if bin == "" {
		proctest.Build(t, "lars-console")
		bin = "lars-console"
		adminAddr = proctest.FreeAddr(t)
		args = append(append(args, "-admin", adminAddr), extra...)
	}
	addr = proctest.FreeAddr(t)
	d := proctest.Start(t, bin, append(args, "-listen", addr)...)
	d.WaitListening(t, addr, time.Minute)
	return addr, adminAddr, path
}

// guardPost sends the probe form (host 6.6.6.2:2 into 1/1) to addr with the
// Host header host and headers (name, value, ...), and returns the status.
func guardPost(t *testing.T, addr, host string, headers ...string) int {
	t.Helper()
	form := url.Values{"modid": {"1"}, "cmdid": {"1"}, "ip": {"6.6.6.2"}, "port": {"2"}}
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/hosts/add", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// guardWritten returns the hosts of 1/1 in the store at path.
func guardWritten(t *testing.T, path string) string {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k := route.Key{Modid: 1, Cmdid: 1}
	r, err := db.Routes(context.Background(), []route.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	return route.FormatHostList(r[k])
}

// guardCounted fails unless the series name of the admin endpoint at adminAddr is at
// least want.
func guardCounted(t *testing.T, adminAddr, name string, want float64) {
	t.Helper()
	series, err := proctest.Scrape(adminAddr)
	if err != nil {
		t.Fatal(err)
	}
	if series[name] < want {
		t.Errorf("%s = %v, want at least %v", name, series[name], want)
	}
}

// TestConsoleRebindingRefused: the DNS-rebinding probe, a POST to a loopback
// console without a token whose Host is a foreign name (same-origin to the browser), is
// refused and writes nothing. Before issue 27 (84122b4) it got 303 and wrote 6.6.6.2:2.
func TestConsoleRebindingRefused(t *testing.T) {
	requireHostile(t)
	addr, adminAddr, path := guardConsole(t)
	_, port, _ := net.SplitHostPort(addr)
	host := "rebind.attacker.example:" + port
	status := guardPost(t, addr, host, "Origin", "http://"+host, "Sec-Fetch-Site", "same-origin")
	written := guardWritten(t, path)
	t.Logf("rebinding POST: status %d, hosts of 1/1 now %q", status, written)
	if status == http.StatusSeeOther || written != "" {
		t.Fatalf("rebinding POST: status %d, wrote %q; want refused, nothing written", status, written)
	}
	if status != http.StatusMisdirectedRequest {
		t.Errorf("rebinding POST: status %d, want 421", status)
	}
	if adminAddr != "" {
		guardCounted(t, adminAddr, `lars_console_http_refused_total{cause="host"}`, 1)
		// The admin endpoint answers no foreign name either.
		req, _ := http.NewRequest(http.MethodGet, "http://"+adminAddr+"/metrics", nil)
		req.Host = "rebind.attacker.example"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("admin /metrics with a foreign Host: status %d, want 421", resp.StatusCode)
		}
	}
}

// TestConsoleUndeclaredProxyRefused: a loopback console without a token behind a proxy
// nobody declared (the request carries X-Forwarded-For) refuses the write: every
// client of such a proxy would otherwise write. Before issue 27 it got 303 and wrote.
func TestConsoleUndeclaredProxyRefused(t *testing.T) {
	requireHostile(t)
	addr, _, path := guardConsole(t)
	status := guardPost(t, addr, addr, "Origin", "http://"+addr, "X-Forwarded-For", "198.51.100.4", "X-Forwarded-Proto", "https")
	written := guardWritten(t, path)
	t.Logf("POST through an undeclared proxy: status %d, hosts of 1/1 now %q", status, written)
	if status == http.StatusSeeOther || written != "" {
		t.Fatalf("POST through an undeclared proxy: status %d, wrote %q; want refused, nothing written", status, written)
	}
}

// TestConsoleCmdlineRedacted: the admin endpoint's /debug/pprof/cmdline does not show
// the token given on the command line (nor would it a DSN's password).
func TestConsoleCmdlineRedacted(t *testing.T) {
	requireHostile(t)
	if os.Getenv(consoleEnvBin) != "" {
		t.Skip("an older lars-console has no admin endpoint")
	}
	const token = "t0p-secret-console-token"
	_, adminAddr, _ := guardConsole(t, "-token", token)
	resp, err := http.Get("http://" + adminAddr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(b), token) || !strings.Contains(string(b), "-token\x00xxxxx") {
		t.Fatalf("cmdline: %d %q", resp.StatusCode, b)
	}
}

// TestConsoleConnectionCap: a client holding -max-conns idle connections does not get
// another: it is closed at once and counted, and the console still answers once one is
// let go.
func TestConsoleConnectionCap(t *testing.T) {
	requireHostile(t)
	if os.Getenv(consoleEnvBin) != "" {
		t.Skip("an older lars-console has no connection cap")
	}
	const capConns = 4
	addr, adminAddr, _ := guardConsole(t, "-max-conns", "4")
	// The connections that saw the console listening are closed by the time the console
	// counts none open.
	proctest.Eventually(t, time.Minute, "the console counting no connection open", func() (bool, string) {
		series, err := proctest.Scrape(adminAddr)
		if err != nil {
			return false, err.Error()
		}
		v, ok := series["lars_console_http_conns_open"]
		return ok && v == 0, fmt.Sprint(v)
	})
	var held []net.Conn
	for range capConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// Each held connection is accepted once a request on it is answered.
	for _, c := range held {
		io.WriteString(c, "GET /static/favicon.svg HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
		if _, err := c.Read(make([]byte, 1)); err != nil {
			t.Fatalf("a held connection: %v", err)
		}
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetDeadline(time.Now().Add(time.Minute))
	io.WriteString(extra, "GET / HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
	if n, err := extra.Read(make([]byte, 1)); err == nil {
		t.Fatalf("the connection past -max-conns was answered (%d bytes)", n)
	}
	guardCounted(t, adminAddr, `lars_console_http_refused_total{cause="conns"}`, 1)
	held[0].Close()
	proctest.Eventually(t, time.Minute, "the console answering once a connection is let go", func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/static/favicon.svg")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// guardAdminGet GETs path from the admin endpoint addr with the Host header host and,
// if not empty, the bearer token, and returns the status.
func guardAdminGet(t *testing.T, addr, host, path, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestAdminRebindingRefused: lars-dns's admin endpoint answers no foreign Host name
// (a page of rebind.attacker.example resolving to 127.0.0.1 would read every route and
// profile the process) and, given -admin-token-file, nothing without the token. Before
// issue 27 (84122b4) /metrics, /routes and /debug/pprof/cmdline answered any Host with 200.
func TestAdminRebindingRefused(t *testing.T) {
	requireHostile(t)
	const token = "0123456789abcdef-hostile-admin"
	tokenFile := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := dnsStart(t, "-admin-token-file", tokenFile)
	// lars-dns starts its admin endpoint before it listens for agents.
	for _, p := range []string{"/metrics", "/routes", "/debug/pprof/cmdline"} {
		status := guardAdminGet(t, r.admin, "rebind.attacker.example:6061", p, token)
		t.Logf("GET %s with a foreign Host: status %d", p, status)
		if status != http.StatusMisdirectedRequest {
			t.Errorf("GET %s with a foreign Host: status %d, want 421", p, status)
		}
	}
	if os.Getenv(dnsEnvBin) != "" {
		return // an older lars-dns has no -admin-token-file
	}
	if status := guardAdminGet(t, r.admin, r.admin, "/routes", ""); status != http.StatusUnauthorized {
		t.Errorf("GET /routes without the token: status %d, want 401", status)
	}
	if status := guardAdminGet(t, r.admin, r.admin, "/routes", token); status != http.StatusOK {
		t.Errorf("GET /routes with the token: status %d, want 200", status)
	}
}
