package admin

import (
	"context"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
)

// startGuarded starts an admin endpoint with opts on loopback and stops it at the end.
func startGuarded(t *testing.T, opts Options) string {
	t.Helper()
	s, err := Start("127.0.0.1:0", Mux(Handlers{Metrics: func(w io.Writer) { io.WriteString(w, "lars_test_up 1\n") }}), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return s.Addr().String()
}

// fetch GETs path from addr with the Host header host and, if not empty, the bearer
// token.
func fetch(t *testing.T, addr, host, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminAnswersItsHostsOnly: a rebinding Host is refused (421) on every page and
// counted in /metrics; loopback and allowed names are answered.
func TestAdminAnswersItsHostsOnly(t *testing.T) {
	addr := startGuarded(t, Options{AllowedHosts: []string{"metrics.example.com"}})
	for _, p := range []string{"/metrics", "/healthz", "/debug/pprof/", "/debug/pprof/cmdline"} {
		if code, _ := fetch(t, addr, "rebind.attacker.example:6060", p, ""); code != http.StatusMisdirectedRequest {
			t.Errorf("GET %s with a foreign Host: %d, want 421", p, code)
		}
	}
	for _, host := range []string{addr, "localhost:6060", "metrics.example.com"} {
		if code, _ := fetch(t, addr, host, "/healthz", ""); code != http.StatusOK {
			t.Errorf("GET /healthz with Host %s: %d", host, code)
		}
	}
	_, body := fetch(t, addr, addr, "/metrics", "")
	if !strings.Contains(body, "lars_test_up 1\n") || !strings.Contains(body, `lars_admin_http_refused_total{cause="host"} 4`) {
		t.Errorf("/metrics lacks the service's or the guard's metrics:\n%s", body)
	}
}

// TestAdminToken: with a token, every page needs it.
func TestAdminToken(t *testing.T) {
	const token = "0123456789abcdef-admin"
	addr := startGuarded(t, Options{Token: token})
	for _, p := range []string{"/metrics", "/healthz", "/debug/pprof/"} {
		if code, _ := fetch(t, addr, addr, p, ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", p, code)
		}
		if code, _ := fetch(t, addr, addr, p, "wrong-token-wrong-token"); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d, want 401", p, code)
		}
		if code, _ := fetch(t, addr, addr, p, token); code != http.StatusOK {
			t.Errorf("GET %s with the token: %d, want 200", p, code)
		}
	}
}

// TestCmdlineRedacted: /debug/pprof/cmdline shows the command line without a DSN's
// password or a token.
func TestCmdlineRedacted(t *testing.T) {
	saved := os.Args
	os.Args = []string{"lars-dns", "-db", "lars:hunter2@tcp(db:3306)/lars_dns", "--token=t0psecret", "-listen", "127.0.0.1:7000"}
	defer func() { os.Args = saved }()
	addr := startGuarded(t, Options{})
	code, body := fetch(t, addr, addr, "/debug/pprof/cmdline", "")
	if code != 200 || strings.Contains(body, "hunter2") || strings.Contains(body, "t0psecret") || !strings.Contains(body, "lars:xxxxx@tcp(db:3306)/lars_dns") {
		t.Fatalf("cmdline: %d %q", code, body)
	}
}

func TestRedactArgs(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"x", "-db", "u:p@tcp(h:1)/d"}, []string{"x", "-db", "u:xxxxx@tcp(h:1)/d"}},
		{[]string{"x", "--db=u:p@tcp(h:1)/d", "-db-file", "/etc/dsn"}, []string{"x", "--db=u:xxxxx@tcp(h:1)/d", "-db-file", "/etc/dsn"}},
		{[]string{"x", "-token", "abc", "-admin-token-file", "/t", "-password=p", "-secret"}, []string{"x", "-token", "xxxxx", "-admin-token-file", "/t", "-password=xxxxx", "-secret"}},
		{[]string{"x", "-db", "sqlite:/var/lars.db"}, []string{"x", "-db", "sqlite:/var/lars.db"}},
	} {
		if got := RedactArgs(c.in); !slices.Equal(got, c.want) {
			t.Errorf("RedactArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLoopbackDefault(t *testing.T) {
	for in, want := range map[string]string{":6060": "127.0.0.1:6060", "0.0.0.0:6060": "0.0.0.0:6060", "[::1]:1": "[::1]:1", "bad": "bad"} {
		if got := LoopbackDefault(in); got != want {
			t.Errorf("LoopbackDefault(%q) = %q, want %q", in, got, want)
		}
	}
}
