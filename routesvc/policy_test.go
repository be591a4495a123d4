package routesvc

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/policy/policytest"
	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
	"github.com/larsgo/lars/route"
)

// TestPolicyJudgesPulls: under a policy, an identity no pull rule names is refused
// at its connection; a named one pulling a service it is not granted gets no host and
// no subscription, counted; a reload applies to the open connection's next pull.
func TestPolicyJudgesPulls(t *testing.T) {
	site := tlstest.NewSite(t, "Test CA")
	srv := site.Server("dns1")
	file, live := policytest.File(t, "pull agent/web-* 1\n")
	db := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "lars.db"))
	key21 := route.Key{Modid: 2, Cmdid: 1}
	for _, k := range []route.Key{key11, key21} {
		if _, err := db.SetHosts(context.Background(), k, []route.Host{host("10.0.0.1", 9000)}); err != nil {
			t.Fatal(err)
		}
	}
	svc := startService(t, db, Config{TLS: srv, Policy: live})
	s := &tlsSite{site: site, srv: srv, svc: svc, db: db}

	stranger, _, err := s.dialTLS(t, site.Issue(tlsgen.RoleAgent, "cache-1"))
	if err == nil {
		stranger.pull(1, 1)
		if !stranger.closedWithin(eventWithin) {
			t.Fatal("an agent no rule names was answered")
		}
	}
	waitUntil(t, eventWithin, "the stranger counted", func() bool { return svc.Stats().NotAllowed == 1 })

	web, _, err := s.dialTLS(t, site.Issue(tlsgen.RoleAgent, "web-1"))
	if err != nil {
		t.Fatal(err)
	}
	web.pull(1, 1)
	web.waitFor(key11, []route.Host{host("10.0.0.1", 9000)}, pushWithin)
	web.pull(2, 1)
	web.waitFor(key21, nil, pushWithin) // not granted: no host
	if st := svc.Stats(); st.PullsDenied != 1 || st.Subscriptions != 1 {
		t.Fatalf("pulls denied %d, subscriptions %d: want 1 and 1", st.PullsDenied, st.Subscriptions)
	}

	policytest.Rewrite(t, file, "pull agent/web-* 2\n")
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	web.pull(2, 1)
	web.waitFor(key21, []route.Host{host("10.0.0.1", 9000)}, pushWithin)
	var m strings.Builder
	svc.WriteMetrics(&m)
	for _, want := range []string{"lars_dns_pulls_denied_total 1", `lars_dns_connections_closed_total{cause="not_allowed"} 1`,
		`lars_dns_peer_connections{peer="agent/web-1"} 1`, `lars_dns_peer_pulls_total{peer="agent/web-1"} 3`} {
		if !strings.Contains(m.String(), want) {
			t.Fatalf("metrics lack %s:\n%s", want, m.String())
		}
	}
}

// TestPolicyNeedsMutualTLS: without a CA there is no identity for a policy to name;
// the service refuses to start rather than run open.
func TestPolicyNeedsMutualTLS(t *testing.T) {
	p, err := policy.Parse([]byte("pull * *"))
	if err != nil {
		t.Fatal(err)
	}
	db := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "lars.db"))
	if _, err := New(Config{Store: db, Policy: policy.NewLive(p)}); err == nil || !strings.Contains(err.Error(), "mutual TLS") {
		t.Fatalf("New with a policy and no TLS: %v", err)
	}
}
