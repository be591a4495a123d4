package reportsvc

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/policy/policytest"
	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
)

// TestPolicyJudgesReports: under a policy, an identity no report rule names is
// refused at its connection; a named one has its reports of other services dropped,
// counted; a reload applies to the open connection's next report.
func TestPolicyJudgesReports(t *testing.T) {
	site := tlstest.NewSite(t, "Test CA")
	srv := site.Server("reporter1")
	file, live := policytest.File(t, "report agent/web-* 1\nreport agent/db-1 2/5\n")
	db := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "lars.db"))
	r := startService(t, db, Config{TLS: srv, Policy: live})

	stranger, err := dialTLS(t, r.Service, site.Issue(tlsgen.RoleAgent, "cache-1"))
	if err == nil {
		stranger.report(1, 1, 7, 0, result{ip: 0x0a000001, port: 9000, succ: 1})
		if !stranger.closedWithin(settle) {
			t.Fatal("an agent no rule names was kept")
		}
	}
	waitUntil(t, settle, "the stranger counted", func() bool { return r.Stats().NotAllowed == 1 })

	web, err := dialTLS(t, r.Service, site.Issue(tlsgen.RoleAgent, "web-1"))
	if err != nil {
		t.Fatal(err)
	}
	web.report(1, 3, 7, 0, result{ip: 0x0a000001, port: 9000, succ: 1}) // modid 1: allowed
	web.report(2, 5, 7, 0, result{ip: 0x0a000002, port: 9000, succ: 1}, result{ip: 0x0a000003, port: 9000, succ: 1})
	st := waitSettled(t, r.Service, 3, settle)
	if st.DroppedPolicy != 2 {
		t.Fatalf("rows dropped by the policy %d, want 2", st.DroppedPolicy)
	}
	if got := rows(t, db); len(got) != 1 || got[0].Modid != 1 {
		t.Fatalf("rows %v, want only the modid 1 report", got)
	}

	policytest.Rewrite(t, file, "report agent/web-* 2\n")
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	web.report(2, 5, 7, 0, result{ip: 0x0a000002, port: 9000, succ: 1})
	web.report(1, 3, 7, 0, result{ip: 0x0a000001, port: 9000, succ: 9})
	st = waitSettled(t, r.Service, 5, settle)
	if st.DroppedPolicy != 3 {
		t.Fatalf("after the reload: rows dropped by the policy %d, want 3", st.DroppedPolicy)
	}
	if got := rows(t, db); len(got) != 2 {
		t.Fatalf("after the reload: rows %v, want the modid 2 report added", got)
	}
	var m strings.Builder
	r.WriteMetrics(&m)
	for _, want := range []string{`lars_reporter_dropped_rows_total{reason="policy"} 3`,
		`lars_reporter_peer_connections{peer="agent/web-1"} 1`, `lars_reporter_peer_results_total{peer="agent/web-1"} 5`} {
		if !strings.Contains(m.String(), want) {
			t.Fatalf("metrics lack %s:\n%s", want, m.String())
		}
	}
	if strings.Contains(m.String(), "cache-1") {
		t.Fatalf("the refused identity is counted as a peer:\n%s", m.String())
	}
}

// TestPolicyNeedsMutualTLS: a policy names verified identities; without a CA there
// are none, and the service refuses to start rather than run open.
func TestPolicyNeedsMutualTLS(t *testing.T) {
	p, err := policy.Parse([]byte("report * *"))
	if err != nil {
		t.Fatal(err)
	}
	db := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "lars.db"))
	if _, err := New(Config{Store: db, Policy: policy.NewLive(p)}); err == nil || !strings.Contains(err.Error(), "mutual TLS") {
		t.Fatalf("New with a policy and no TLS: %v", err)
	}
}
