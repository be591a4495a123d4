package hostile

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/store"
)

// The TLS probes of issue 27: a site whose lars-dns, lars-reporter and lars-agent run
// mutual TLS with certificates made by `larsctl tls`; an attacker on the machine who
// speaks plain Lars framing, holds a certificate of another CA, or a certificate of the
// site that is not an agent's, tries to read routes and forge call status.

// tlsWithin bounds every wait for something that must happen; generous, so that only a
// broken build reaches it.
const tlsWithin = 30 * time.Second

// tlsSite is the site: its certificates, store and the three daemons.
type tlsSite struct {
	dir, other string // the site CA's directory; another CA's
	dsn        string
	db         *store.DB
	dnsAddr    string
	dnsAdmin   string
	dns        *proctest.Daemon
	repAddr    string
	repAdmin   string
	agentPort  string
}

// larsctl runs larsctl, failing the test unless it exits 0.
func tlsLarsctl(t *testing.T, args ...string) string {
	t.Helper()
	code, out := proctest.Run(t, "larsctl", args...)
	if code != 0 {
		t.Fatalf("larsctl %s: exit %d: %s", strings.Join(args, " "), code, out)
	}
	return out
}

// files returns the files of the site's holder ROLE-NAME, with the site CA.
func (s *tlsSite) files(role, name string) tlsconf.Files {
	return tlsconf.Files{Cert: filepath.Join(s.dir, role+"-"+name+".pem"),
		Key: filepath.Join(s.dir, role+"-"+name+"-key.pem"), CA: filepath.Join(s.dir, "lars-ca.pem")}
}

// tlsFlags are a daemon's TLS flags for the files f.
func tlsFlags(f tlsconf.Files) []string {
	return []string{"-tls-cert", f.Cert, "-tls-key", f.Key, "-tls-ca", f.CA}
}

// tlsStart makes the site with larsctl tls (CA, server certificates for lars-dns and
// lars-reporter, an agent's and a client's; another CA with an agent certificate),
// a store holding 1/1 -> 10.0.0.1:9000, and starts the three daemons with mutual TLS.
func tlsStart(t *testing.T) *tlsSite { return tlsStartWith(t, nil) }

// tlsStartWith is tlsStart with more flags for lars-dns and lars-reporter, given the
// site's directory (where the CA and certificates are).
func tlsStartWith(t *testing.T, serviceFlags func(dir string) []string) *tlsSite {
	t.Helper()
	proctest.Build(t, "lars-dns", "lars-reporter", "lars-agent", "larsctl")
	s := &tlsSite{dir: t.TempDir(), other: t.TempDir()}
	tlsLarsctl(t, "tls", "ca", "create", "-dir", s.dir)
	tlsLarsctl(t, "tls", "cert", "create", "-server", "-name", "dns1", "-ca-dir", s.dir, "-dir", s.dir)
	tlsLarsctl(t, "tls", "cert", "create", "-server", "-name", "reporter1", "-ca-dir", s.dir, "-dir", s.dir)
	tlsLarsctl(t, "tls", "cert", "create", "-agent", "-name", "agent1", "-ca-dir", s.dir, "-dir", s.dir)
	tlsLarsctl(t, "tls", "cert", "create", "-client", "-name", "script", "-ca-dir", s.dir, "-dir", s.dir)
	tlsLarsctl(t, "tls", "ca", "create", "-dir", s.other, "-name", "Attacker CA")
	tlsLarsctl(t, "tls", "cert", "create", "-agent", "-name", "agent1", "-ca-dir", s.other, "-dir", s.other)

	s.dsn = "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	tlsLarsctl(t, "-db", s.dsn, "route", "add", "1", "1", "10.0.0.1", "9000")
	var err error
	if s.db, err = store.Open(context.Background(), s.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.db.Close() })

	var extra []string
	if serviceFlags != nil {
		extra = serviceFlags(s.dir)
	}
	s.dnsAddr, s.dnsAdmin = proctest.FreeAddr(t), proctest.FreeAddr(t)
	s.dns = proctest.Start(t, "lars-dns", append(append([]string{"-db", s.dsn, "-listen", s.dnsAddr, "-admin", s.dnsAdmin,
		"-poll", "100ms"}, tlsFlags(s.files("server", "dns1"))...), extra...)...)
	s.dns.WaitListening(t, s.dnsAddr, tlsWithin)
	s.repAddr, s.repAdmin = proctest.FreeAddr(t), proctest.FreeAddr(t)
	rep := proctest.Start(t, "lars-reporter", append(append([]string{"-db", s.dsn, "-listen", s.repAddr, "-admin", s.repAdmin},
		tlsFlags(s.files("server", "reporter1"))...), extra...)...)
	rep.WaitListening(t, s.repAddr, tlsWithin)
	s.agentPort = strconv.Itoa(proctest.FreePort(t, "udp"))
	agentAdmin := proctest.FreeAddr(t)
	agent := proctest.Start(t, "lars-agent", append([]string{"-dns", s.dnsAddr, "-reporter", s.repAddr, "-ports", s.agentPort,
		"-admin", agentAdmin}, tlsFlags(s.files("agent", "agent1"))...)...)
	agent.WaitListening(t, agentAdmin, tlsWithin)
	return s
}

// waitHost waits until the agent serves 1/1 with host.
func (s *tlsSite) waitHost(t *testing.T, host string) {
	t.Helper()
	proctest.Eventually(t, tlsWithin, "the agent serving "+host, func() (bool, string) {
		code, out := proctest.Run(t, "larsctl", "-ports", s.agentPort, "get-host", "1", "1")
		return code == 0 && strings.Contains(out, host), fmt.Sprintf("exit %d %q", code, out)
	})
}

// scrape returns the samples of the admin endpoint at addr.
func tlsScrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	m, err := proctest.Scrape(addr)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// waitMetric waits until the sample name at addr is at least want.
func waitMetric(t *testing.T, addr, name string, want float64) {
	t.Helper()
	proctest.Eventually(t, tlsWithin, name+" reaching "+fmt.Sprint(want), func() (bool, string) {
		v := tlsScrape(t, addr)[name]
		return v >= want, fmt.Sprintf("%s = %v", name, v)
	})
}

// forgedReport is the frame of issue 27's forged status: host 6.6.6.2:2 of key 1/1
// overloaded, stamped ts.
func forgedReport(t *testing.T, ts uint32) []byte {
	t.Helper()
	req := larspb.ReportStatusRequest{Modid: 1, Cmdid: 1, Caller: 6<<24 | 6<<16 | 6<<8 | 6, Ts: ts,
		Results: []*larspb.HostCallResult{{Ip: 6<<24 | 6<<16 | 6<<8 | 2, Port: 2, Err: 1000, Overload: true}}}
	frame, err := codec.AppendFrame(nil, codec.MsgReportStatusRequest, &req)
	if err != nil {
		t.Fatal(err)
	}
	return frame
}

// sendAndWaitClose writes frame on c and reports whether c was closed without an
// answer (what a refused client sees), within tlsWithin.
func sendAndWaitClose(c net.Conn, frame []byte) bool {
	c.Write(frame) // may fail at once: the refusal
	c.SetReadDeadline(time.Now().Add(tlsWithin))
	var b [1]byte
	_, err := c.Read(b[:])
	ne, timeout := err.(net.Error)
	return err != nil && !(timeout && ne.Timeout())
}

// tlsDial connects to addr with files f; nil and the error when the handshake fails.
func tlsDial(t *testing.T, f tlsconf.Files, addr string) (*tls.Conn, error) {
	t.Helper()
	c, err := tlsconf.NewClient(f)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := c.Dial(context.Background(), &net.Dialer{Timeout: tlsWithin}, "tcp", addr)
	if err == nil {
		t.Cleanup(func() { tc.Close() })
	}
	return tc, err
}

// forgedRows counts the rows of the forged host 6.6.6.2:2.
func (s *tlsSite) forgedRows(t *testing.T) int {
	t.Helper()
	var n int
	if err := s.db.SQL().QueryRowContext(context.Background(),
		"SELECT COUNT(*) FROM ServerCallStatus WHERE port = 2").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTLSSiteServesAgentsOnly: with certificates from larsctl tls, the agent pulls its
// route and gets its change over mutual TLS, and its report lands; a plaintext client,
// a client without a certificate, one with a certificate of another CA and one with a
// client (not agent) certificate get no route and store no status, each refusal
// counted; a timestamp from the future is clamped.
func TestTLSSiteServesAgentsOnly(t *testing.T) {
	requireHostile(t)
	s := tlsStart(t)
	s.waitHost(t, "10.0.0.1:9000")
	tlsLarsctl(t, "-db", s.dsn, "route", "set", "1", "1", "10.0.0.3:9001")
	s.waitHost(t, "10.0.0.3:9001")
	tlsLarsctl(t, "-ports", s.agentPort, "simulate", "1", "1", "-n", "20", "-err-rate", "0")
	proctest.Eventually(t, tlsWithin, "the agent's report stored", func() (bool, string) {
		var n int
		err := s.db.SQL().QueryRowContext(context.Background(),
			"SELECT COUNT(*) FROM ServerCallStatus WHERE port = 9001 AND succ_cnt > 0").Scan(&n)
		return err == nil && n > 0, fmt.Sprintf("rows %d, %v", n, err)
	})

	pull, err := codec.AppendFrame(nil, codec.MsgGetRouteRequest, &larspb.GetRouteRequest{Modid: 1, Cmdid: 1})
	if err != nil {
		t.Fatal(err)
	}
	forged := forgedReport(t, uint32(time.Now().Unix()))
	for _, p := range []struct {
		addr  string
		frame []byte
	}{{s.dnsAddr, pull}, {s.repAddr, forged}} {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		if !sendAndWaitClose(c, p.frame) {
			t.Errorf("%s answered or kept a plaintext client", p.addr)
		}
		c.Close()
	}
	attacker := tlsconf.Files{Cert: filepath.Join(s.other, "agent-agent1.pem"), Key: filepath.Join(s.other, "agent-agent1-key.pem"),
		CA: filepath.Join(s.dir, "lars-ca.pem")}
	for name, f := range map[string]tlsconf.Files{"no certificate": {CA: attacker.CA}, "another CA": attacker} {
		for _, p := range []struct {
			addr  string
			frame []byte
		}{{s.dnsAddr, pull}, {s.repAddr, forged}} {
			c, err := tlsDial(t, f, p.addr)
			if err != nil {
				continue // refused in the handshake
			}
			if !sendAndWaitClose(c, p.frame) {
				t.Errorf("%s: %s answered or kept the connection", name, p.addr)
			}
		}
	}
	script, err := tlsDial(t, s.files("client", "script"), s.repAddr)
	if err != nil {
		t.Fatalf("a client certificate of the site refused in the handshake: %v", err)
	}
	if !sendAndWaitClose(script, forged) {
		t.Error("lars-reporter kept a client (not agent) certificate's connection")
	}
	for _, addr := range []string{s.dnsAdmin, s.repAdmin} {
		prefix := "lars_dns"
		if addr == s.repAdmin {
			prefix = "lars_reporter"
		}
		for _, cause := range []string{"plaintext", "no_certificate", "unknown_ca"} {
			waitMetric(t, addr, prefix+`_tls_handshake_failures_total{cause="`+cause+`"}`, 1)
		}
	}
	waitMetric(t, s.repAdmin, `lars_reporter_connections_closed_total{cause="not_allowed"}`, 1)
	if n := s.forgedRows(t); n != 0 {
		t.Errorf("%d forged rows stored from refused clients", n)
	}
	if m := tlsScrape(t, s.repAdmin); m["lars_reporter_frames_total"] == 0 {
		t.Error("lars-reporter read no frame at all: the agent's report did not come through it")
	}

	// A future timestamp from a real agent's certificate is clamped.
	agent, err := tlsDial(t, s.files("agent", "agent1"), s.repAddr)
	if err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(10 * 365 * 24 * time.Hour)
	if _, err := agent.Write(forgedReport(t, uint32(future.Unix()))); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, s.repAdmin, "lars_reporter_future_ts_clamped_total", 1)
	proctest.Eventually(t, tlsWithin, "the clamped row stored", func() (bool, string) {
		var ts int64
		err := s.db.SQL().QueryRowContext(context.Background(), "SELECT MAX(ts) FROM ServerCallStatus WHERE port = 2").Scan(&nullInt{&ts})
		return err == nil && ts > 0, fmt.Sprintf("ts %d, %v", ts, err)
	})
	var maxTS int64
	if err := s.db.SQL().QueryRowContext(context.Background(), "SELECT MAX(ts) FROM ServerCallStatus").Scan(&nullInt{&maxTS}); err != nil {
		t.Fatal(err)
	}
	m := tlsScrape(t, s.repAdmin)
	d := tlsScrape(t, s.dnsAdmin)
	t.Logf("lars-dns refused: plaintext %.0f, no certificate %.0f, other CA %.0f; lars-reporter refused: plaintext %.0f, no certificate %.0f, other CA %.0f, not an agent %.0f; future ts clamped %.0f (stored ts %d, now %d)",
		d[`lars_dns_tls_handshake_failures_total{cause="plaintext"}`], d[`lars_dns_tls_handshake_failures_total{cause="no_certificate"}`],
		d[`lars_dns_tls_handshake_failures_total{cause="unknown_ca"}`],
		m[`lars_reporter_tls_handshake_failures_total{cause="plaintext"}`], m[`lars_reporter_tls_handshake_failures_total{cause="no_certificate"}`],
		m[`lars_reporter_tls_handshake_failures_total{cause="unknown_ca"}`], m[`lars_reporter_connections_closed_total{cause="not_allowed"}`],
		m["lars_reporter_future_ts_clamped_total"], maxTS, time.Now().Unix())
	if maxTS > time.Now().Unix() {
		t.Errorf("a ts from the future stored: %d", maxTS)
	}
	if d["lars_dns_pulls_total"] < 1 || d[`lars_dns_tls_handshakes_total`] < 1 {
		t.Errorf("lars-dns served no agent over TLS: %v pulls, %v handshakes", d["lars_dns_pulls_total"], d["lars_dns_tls_handshakes_total"])
	}
}

// TestTLSReloadOnSIGHUP: lars-dns's certificate replaced with larsctl tls cert create
// -force and reloaded on SIGHUP: the agent's connection stays up (a route change still
// reaches it, no new handshake), lars-dns does not exit, and a new handshake gets the
// new certificate.
func TestTLSReloadOnSIGHUP(t *testing.T) {
	requireHostile(t)
	s := tlsStart(t)
	s.waitHost(t, "10.0.0.1:9000")
	before := tlsScrape(t, s.dnsAdmin)["lars_dns_tls_handshakes_total"]
	tlsLarsctl(t, "tls", "cert", "create", "-server", "-name", "dns1", "-ca-dir", s.dir, "-dir", s.dir, "-force")
	newSerial := certSerial(t, s.files("server", "dns1").Cert)
	if err := syscall.Kill(s.dns.PID(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, s.dnsAdmin, `lars_dns_tls_reloads_total{result="ok"}`, 1)
	tlsLarsctl(t, "-db", s.dsn, "route", "set", "1", "1", "10.0.0.4:9004")
	s.waitHost(t, "10.0.0.4:9004")
	if after := tlsScrape(t, s.dnsAdmin)["lars_dns_tls_handshakes_total"]; after != before {
		t.Errorf("handshakes %v after the reload, %v before: the agent's connection was dropped", after, before)
	}
	c, err := tlsDial(t, s.files("agent", "agent1"), s.dnsAddr)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ConnectionState().PeerCertificates[0].SerialNumber.String(); got != newSerial {
		t.Errorf("a new handshake got certificate %s, want the reloaded %s", got, newSerial)
	}
	if code, _ := s.dns.Stop(t); code != 0 {
		t.Errorf("lars-dns exit %d after SIGHUP and SIGTERM", code)
	}
	if !strings.Contains(s.dns.Output(), "SIGHUP: TLS files reloaded") {
		t.Errorf("the reload is not logged:\n%s", s.dns.Output())
	}
}

// certSerial returns the serial number of the certificate in the PEM file path.
func certSerial(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.String()
}
