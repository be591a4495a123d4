package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
	"github.com/larsgo/lars/internal/waitfor"
	"github.com/larsgo/lars/store"
)

// httpsClient is an HTTPS client that trusts site's CA, presents cert (none when its
// Cert is ""), and does not follow redirects.
func httpsClient(t *testing.T, site *tlstest.Site, cert tlsconf.Files) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(site.CA())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if cert.Cert != "" {
		pair, err := tls.LoadX509KeyPair(cert.Cert, cert.Key)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestServesMutualTLS: with -tls-cert, -tls-key and -tls-ca the console serves HTTPS
// only to clients with a certificate from the site's CA; plaintext clients and
// certificates of another CA are refused and counted; the session cookie is Secure; a
// write names the client's certificate in RouteHistory; SIGHUP loads a new
// certificate for new connections.
func TestServesMutualTLS(t *testing.T) {
	site := tlstest.NewSite(t, "site-ca")
	other := tlstest.NewSite(t, "other-ca")
	srvFiles := site.Issue(tlsgen.RoleConsole, "console-1")
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "lars.db")
	pwFile := filepath.Join(dir, "initial-password")
	c := startConsole(t, []string{"-db", dsn, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-initial-password-file", pwFile,
		"-tls-cert", srvFiles.Cert, "-tls-key", srvFiles.Key, "-tls-ca", srvFiles.CA}, true)
	if !strings.HasPrefix(c.url, "https://") {
		t.Fatalf("serving %s, want https", c.url)
	}
	ops := httpsClient(t, site, site.Issue(tlsgen.RoleClient, "ops-1"))

	// Refused: plaintext, no certificate, a certificate of another CA.
	plainURL := "http://" + strings.TrimPrefix(c.url, "https://")
	if resp, err := http.Get(plainURL); err == nil {
		resp.Body.Close()
		t.Errorf("plaintext GET answered %d", resp.StatusCode)
	}
	for name, cl := range map[string]*http.Client{
		"no certificate":         httpsClient(t, site, tlsconf.Files{}),
		"another CA certificate": httpsClient(t, site, other.Issue(tlsgen.RoleClient, "intruder")),
	} {
		if resp, err := cl.Get(c.url); err == nil {
			resp.Body.Close()
			t.Errorf("%s: GET answered %d", name, resp.StatusCode)
		}
	}
	metrics := func() string {
		resp, err := http.Get("http://" + c.admin + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if m := metrics(); !strings.Contains(m, `lars_console_tls_handshake_failures_total{cause="plaintext"} 1`) {
		t.Errorf("the plaintext client is not counted:\n%s", grepLines(m, "lars_console_tls"))
	}

	// Served: log in (a Secure cookie), write a host, find the certificate in its history.
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ops.PostForm(c.url+"login", url.Values{"name": {"admin"}, "password": {strings.TrimSpace(string(pw))}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 || !cookies[0].Secure || !cookies[0].HttpOnly {
		t.Fatalf("login over TLS: %d, cookies %+v", resp.StatusCode, cookies)
	}
	req, _ := http.NewRequest(http.MethodPost, c.url+"hosts/add", strings.NewReader("modid=5&cmdid=6&ip=10.0.0.9&port=80"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(cookies[0])
	if resp, err = ops.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add a host: %d", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	modid := int32(5)
	hist, err := db.History(ctx, store.HistoryFilter{Modid: &modid})
	if err != nil || len(hist) != 1 || !strings.Contains(hist[0].Who, "admin (lars-console 127.0.0.1, client/ops-1)") {
		t.Errorf("RouteHistory %+v, %v: want the account and the certificate", hist, err)
	}

	// SIGHUP: a new certificate for new connections.
	before := serverSerial(t, ops, c.url)
	site.Issue(tlsgen.RoleConsole, "console-1")
	c.sigs <- syscall.SIGHUP
	if !waitfor.Poll(time.Minute, func() bool { // each try on a new connection
		return serverSerial(t, httpsClient(t, site, site.Issue(tlsgen.RoleClient, "ops-1")), c.url).Cmp(before) != 0
	}) {
		t.Errorf("the certificate served a minute after SIGHUP is still serial %v", before)
	}
	if !strings.Contains(c.stderr.String(), "SIGHUP: TLS files reloaded") {
		t.Errorf("no reload logged:\n%s", c.stderr.String())
	}
}

// serverSerial is the serial number of the certificate the server at u presents to cl.
func serverSerial(t *testing.T, cl *http.Client, u string) *big.Int {
	t.Helper()
	resp, err := cl.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.TLS.PeerCertificates[0].SerialNumber
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
