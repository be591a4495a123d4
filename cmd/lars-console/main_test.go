package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// noEnv is a getenv with nothing set.
func noEnv(string) string { return "" }

func TestBadConfigExitsTwoWithOneLine(t *testing.T) {
	dir := t.TempDir()
	badConf := filepath.Join(dir, "bad.conf")
	os.WriteFile(badConf, []byte("[mysql]\ndb_port = seventy\n"), 0o600)
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"unknown flag":   {[]string{"-nope"}, "flag provided but not defined"},
		"bad listen":     {[]string{"-listen", "127.0.0.1"}, "-listen"},
		"bad log level":  {[]string{"-log-level", "loud"}, "-log-level"},
		"missing conf":   {[]string{"-config", filepath.Join(dir, "none.conf")}, "none.conf"},
		"bad conf value": {[]string{"-config", badConf}, "db_port"},
		"extra argument": {[]string{"serve"}, "unexpected argument"},
		"empty db":       {[]string{"-db", ""}, "-db"},
		"bad mysql dsn":  {[]string{"-db", "u:secret@tcp(127.0.0.1:1"}, "u:xxxxx@"},
		"short token":    {[]string{"-token", "short"}, "at least 16"},
		"idle over max":  {[]string{"-session-idle", "2h", "-session-max", "1h"}, "-session-idle"},
		"zero page rows": {[]string{"-page-rows", "0"}, "-page-rows 0"},
		"bad admin":      {[]string{"-admin", "127.0.0.1"}, "-admin"},
		"max below page": {[]string{"-page-rows", "50", "-max-page-rows", "10"}, "-max-page-rows 10"},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(c.args, noEnv, &stderr, make(chan os.Signal))
			out := stderr.String()
			if code != 2 || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, out, c.want)
			}
			if strings.Contains(out, "secret") {
				t.Fatalf("stderr shows the password: %q", out)
			}
			if name != "unknown flag" && strings.Count(strings.TrimSpace(out), "\n") != 0 {
				t.Fatalf("more than one line: %q", out)
			}
		})
	}
}

func TestTokenFromFlagOrEnvironment(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"-listen", "0.0.0.0:8080", "-token", "flag-token-0123456789"}, "env-token-0123456789", "flag-token-0123456789"},
		{[]string{"-listen", "0.0.0.0:8080"}, "env-token-0123456789", "env-token-0123456789"},
		{[]string{"-listen", "0.0.0.0:8080"}, "", ""},
	} {
		o, fs, err := parseFlags(c.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		s, err := buildSettings(o, fs, func(name string) string {
			if name == "LARS_CONSOLE_TOKEN" {
				return c.env
			}
			return ""
		}, io.Discard)
		if err != nil || s.token != c.want {
			t.Errorf("%q with $LARS_CONSOLE_TOKEN=%q: token %q, %v; want %q", c.args, c.env, s.token, err, c.want)
		}
	}
	o, fs, err := parseFlags([]string{"-token", "0123456789abcde"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := buildSettings(o, fs, noEnv, io.Discard); err == nil || !strings.Contains(err.Error(), "16") {
		t.Errorf("a 15-character token: %v, want refused", err)
	}
}

func TestConfigNamesTheStore(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "lars_dns.conf")
	os.WriteFile(conf, []byte("[mysql]\ndb_host = 127.0.0.1\ndb_port = 3306\ndb_user = lars\ndb_passwd = pw\ndb_name = lars_dns\n"), 0o600)
	o, fs, err := parseFlags([]string{"-config", conf}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s, err := buildSettings(o, fs, noEnv, io.Discard)
	if err != nil || !strings.Contains(s.dsn, "@tcp(127.0.0.1:3306)/lars_dns") {
		t.Errorf("dsn from the conf: %v, %v", s, err)
	}
	o, fs, _ = parseFlags([]string{"-config", conf, "-db", "sqlite:x.db"}, io.Discard)
	if s, err := buildSettings(o, fs, noEnv, io.Discard); err != nil || s.dsn != "sqlite:x.db" {
		t.Errorf("-db over the conf: %v, %v", s, err)
	}
}

func TestServesAndStops(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.AddHost(ctx, route.Key{Modid: 3, Cmdid: 4}, route.FromWire(167772161, 80)); err != nil {
			t.Fatal(err)
		}
		pwFile := filepath.Join(t.TempDir(), "initial-password")
		c := startConsole(t, []string{"-db", dsn, "-listen", "127.0.0.1:0", "-initial-password-file", pwFile}, false)
		url, stderr := c.url, c.stderr
		// Deny by default: the page needs a login, as the first start's admin.
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirect.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("GET %s without a login: %d to %q", url, resp.StatusCode, resp.Header.Get("Location"))
		}
		if !strings.Contains(stderr.String(), pwFile) {
			t.Errorf("the log does not name the password file:\n%s", stderr.String())
		}
		pw, err := os.ReadFile(pwFile)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stderr.String(), strings.TrimSpace(string(pw))) {
			t.Fatal("the log shows the initial password")
		}
		resp, err = noRedirect.PostForm(url+"login", map[string][]string{"name": {"admin"}, "password": {strings.TrimSpace(string(pw))}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cookies := resp.Cookies()
		if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 {
			t.Fatalf("login as admin: %d, cookies %v", resp.StatusCode, cookies)
		}
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.AddCookie(cookies[0])
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `href="/service/3/4"`) {
			t.Errorf("GET %s: %d\n%s", url, resp.StatusCode, body)
		}
		c.stop(t)
		if strings.Contains(stderr.String(), "secret") || strings.Contains(stderr.String(), "level=ERROR") {
			t.Errorf("log:\n%s", stderr.String())
		}
	})
}

// TestGroupReadableFlag: -group-readable reaches the settings the store is opened with
// (store.GroupReadable: a new SQLite file 0640 instead of 0600).
func TestGroupReadableFlag(t *testing.T) {
	for args, want := range map[string]bool{"": false, "-group-readable": true} {
		o, fs, err := parseFlags(strings.Fields(args), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		s, err := buildSettings(o, fs, func(string) string { return "" }, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if s.groupReadable != want {
			t.Errorf("%q: group readable %v, want %v", args, s.groupReadable, want)
		}
	}
}
