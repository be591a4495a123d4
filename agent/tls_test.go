package agent_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/reportsvc"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/routesvc"
	"github.com/larsgo/lars/store"
)

// runService runs svc until the test ends and waits until it listens.
func runService(t *testing.T, run func(context.Context) error, ready <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(patience):
			t.Errorf("service not stopped within %v", patience)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("service ended before serving: %v", err)
	case <-time.After(patience):
		t.Fatalf("service not ready within %v", patience)
	}
}

// TestAgentOverMutualTLS: an agent with a certificate the site CA signed pulls its
// routes from a route service and reports to a report service, both serving mutual
// TLS with certificates made by tlsgen; a route change reaches it and its report is
// stored. SIGHUP's reload of the agent's files keeps both links up.
func TestAgentOverMutualTLS(t *testing.T) {
	site := tlstest.NewSite(t, "Test CA")
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "lars.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key := route.Key{Modid: 1, Cmdid: 1}
	if _, err := db.SetHosts(context.Background(), key, []route.Host{h1}); err != nil {
		t.Fatal(err)
	}
	dnsTLS, err := tlsconf.NewServer(site.Issue(tlsgen.RoleServer, "dns1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	repTLS, err := tlsconf.NewServer(site.Issue(tlsgen.RoleServer, "reporter1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	dns, err := routesvc.New(routesvc.Config{Store: db, Listen: "127.0.0.1:0", Poll: 20 * time.Millisecond, TLS: dnsTLS, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	runService(t, dns.Run, dns.Ready())
	rep, err := reportsvc.New(reportsvc.Config{Store: db, Listen: "127.0.0.1:0", TLS: repTLS, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	runService(t, rep.Run, rep.Ready())

	a := startAgent(t, agent.Config{RouteService: []string{dns.Addr().String()}, ReportService: rep.Addr().String(),
		TLS: site.Issue(tlsgen.RoleAgent, "agent-1"), SweepInterval: 10 * time.Millisecond,
		Table: lb.Config{Settings: fastSettings()}})
	if !a.TLSEnabled() {
		t.Fatal("the agent's links are not TLS")
	}
	c := dial(t, a.Addrs()[0])
	eventually(t, patience, "hosts pulled over TLS", func() bool { return c.getHost(1, 1, 1).Retcode == 0 })
	waitRoute(t, c, 1, 1, h1)
	if _, err := db.SetHosts(context.Background(), key, []route.Host{h2}); err != nil {
		t.Fatal(err)
	}
	waitRoute(t, c, 1, 1, h2)

	if err := a.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	var m bytes.Buffer
	a.WriteMetrics(&m)
	if !strings.Contains(m.String(), `lars_agent_tls_reloads_total{result="ok"} 1`) ||
		strings.Contains(m.String(), "lars_agent_tls_cert_expiry_timestamp_seconds 0\n") ||
		!strings.Contains(m.String(), "lars_agent_tls_cert_expiry_timestamp_seconds ") {
		t.Fatalf("the agent's TLS metrics lack the reload or the certificate's expiry:\n%s", m.String())
	}
	readme, err := os.ReadFile("../docs/agent.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"`tls_cert_expiry_timestamp_seconds`", "`tls_reloads_total{"} {
		if !strings.Contains(string(readme), name) {
			t.Errorf("README.md does not list the agent's metric %s", name)
		}
	}
	eventually(t, patience, "a report stored", func() bool {
		c.report(1, 1, h2, 0)
		rows, err := db.CallStatus(context.Background(), store.CallStatusFilter{})
		return err == nil && len(rows) > 0 && rows[0].Host == h2 && rows[0].Succ > 0
	})
	if st := dnsTLS.Stats(); st.Handshakes != 1 || st.Failed(tlsconf.CausePlaintext) != 0 {
		t.Fatalf("route service handshakes %d (plaintext refused %d): want the one link, kept across the reload",
			st.Handshakes, st.Failed(tlsconf.CausePlaintext))
	}
	if st := rep.Stats(); st.NotAllowed != 0 {
		t.Fatalf("the agent's reports refused: %+v", st)
	}
}

// TestAgentTLSFilesChecked: a certificate without its key is an error of New.
func TestAgentTLSFilesChecked(t *testing.T) {
	f := tlstest.NewSite(t, "Test CA").Issue(tlsgen.RoleAgent, "agent-1")
	f.Key = ""
	if _, err := agent.New(agent.Config{RouteService: []string{"127.0.0.1:1"}, Ports: []int{0}, TLS: f, Logger: quietLogger()}); err == nil {
		t.Fatal("a certificate without its key accepted")
	}
	a := startAgent(t, agent.Config{RouteService: []string{"127.0.0.1:1"}})
	if a.TLSEnabled() || a.ReloadTLS() != agent.ErrNoTLS {
		t.Fatal("an agent without TLS files has TLS")
	}
}

// TestAgentRefusesAConsoleAsService: a route service that presents the site's
// console certificate (which also proves a server) is not lars-dns: the agent refuses
// every connection to it and counts each as a failed dial; it never pulls from it.
func TestAgentRefusesAConsoleAsService(t *testing.T) {
	site := tlstest.NewSite(t, "Test CA")
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "lars.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.SetHosts(context.Background(), route.Key{Modid: 1, Cmdid: 1}, []route.Host{h1}); err != nil {
		t.Fatal(err)
	}
	posing, err := tlsconf.NewServer(site.Issue(tlsgen.RoleConsole, "console-1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	dns, err := routesvc.New(routesvc.Config{Store: db, Listen: "127.0.0.1:0", TLS: posing, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	runService(t, dns.Run, dns.Ready())
	a := startAgent(t, agent.Config{RouteService: []string{dns.Addr().String()}, TLS: site.Issue(tlsgen.RoleAgent, "agent-1"),
		SweepInterval: 10 * time.Millisecond, Table: lb.Config{Settings: fastSettings()}})
	c := dial(t, a.Addrs()[0])
	metric := func(name string) int {
		var m bytes.Buffer
		a.WriteMetrics(&m)
		for _, line := range strings.Split(m.String(), "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		t.Fatalf("no metric %s", name)
		return 0
	}
	eventually(t, patience, "two refused connections counted", func() bool {
		c.getHost(1, 1, 1) // asks for the key, so the agent wants the route service
		return metric("lars_agent_route_service_dial_errors_total") >= 2
	})
	if got := metric("lars_agent_route_service_connects_total"); got != 0 {
		t.Fatalf("the agent connected %d times to a console posing as lars-dns", got)
	}
	if st := dns.Stats(); st.Pulls != 0 {
		t.Fatalf("the agent pulled %d times from it", st.Pulls)
	}
}
