package larsconf

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/lb"
)

func TestParseAgentValues(t *testing.T) {
	var s AgentSettings
	err := ParseAgent([]byte("[loadbalance]\nprobe_num=3\nerr_rate = 0.2\nidle_timeout=1500ms\noverload_timeout=7\nlocal_ip=10.1.2.3\nmax_keys=5000\n"+
		"max_no_route_keys=700\nno_answer_ttl=5\nunknown_key_rate=50\nunknown_key_sources=64\nallow_remote_get_route=true\n"), "a.ini", &s)
	if err != nil {
		t.Fatal(err)
	}
	st := s.Table.Settings
	if st.ProbeNum != 3 || st.ErrRate != 0.2 || st.IdleTimeout != 1500*time.Millisecond || st.OverloadTimeout != 7*time.Second {
		t.Fatalf("settings %+v", st)
	}
	if st.InitSuccCnt != lb.DefaultInitSuccCnt {
		t.Fatalf("keys not given must keep their defaults: %+v", st)
	}
	if s.Table.MaxKeys != 5000 {
		t.Fatalf("max_keys: MaxKeys %d, want 5000", s.Table.MaxKeys)
	}
	if s.Table.MaxNoRouteKeys != 700 || s.Table.NoAnswerTTL != 5*time.Second || s.UnknownKeyRate != 50 ||
		s.UnknownKeySources != 64 || !s.AllowRemoteGetRoute {
		t.Fatalf("unknown-key bounds: %d %v %d %d %v", s.Table.MaxNoRouteKeys, s.Table.NoAnswerTTL,
			s.UnknownKeyRate, s.UnknownKeySources, s.AllowRemoteGetRoute)
	}
	if s.Caller.String() != "10.1.2.3" || s.ReportService != "" {
		t.Fatalf("caller %v reporter %q", s.Caller, s.ReportService)
	}
}

func TestParseAgentErrors(t *testing.T) {
	cases := map[string]string{
		"[loadbalance]\nprobe_nun=3\n":                  "unknown key",
		"[loadbalance]\nprobe_num=three\n":              "probe_num",
		"[loadbalance]\nidle_timeout=soon\n":            "idle_timeout",
		"[reporter]\nip=127.0.0.1\nport=0\n":            "[reporter]",
		"[dnsserver]\nport=99999\n":                     "[dnsserver]",
		"[dnsserver]\nip=a,,b\nport=7778\n":             "empty element",
		"[dnsserver]\nip=a,b\nport=x\n":                 "[dnsserver]",
		"[loadbalance]\nlocal_ip=nowhere\n":             "local_ip",
		"[loadbalance]\nmax_keys=0\n":                   "max_keys",
		"[loadbalance]\nmax_keys=many\n":                "max_keys",
		"[loadbalance]\nmax_no_route_keys=-1\n":         "max_no_route_keys",
		"[loadbalance]\nno_answer_ttl=0\n":              "no_answer_ttl",
		"[loadbalance]\nunknown_key_rate=0\n":           "unknown_key_rate",
		"[loadbalance]\nunknown_key_sources=0\n":        "unknown_key_sources",
		"[loadbalance]\nallow_remote_get_route=maybe\n": "allow_remote_get_route",
		"[loadbalance]\npolicy=random\n":                "policy",
		"[loadbalance]\npanic_threshold=half\n":         "panic_threshold",
		"[loadbalance]\noverload_backoff=twice\n":       "overload_backoff",
		"[loadbalance]\newma_decay=slow\n":              "ewma_decay",
		"[loadbalance]\nslow_start=soon\n":              "slow_start",
		"[loadbalance]\nzone_min_usable=most\n":         "zone_min_usable",
		"[loadbalance]\nzone=a/b\n":                     "zone",
		"[loadbalance]\nzone=\n":                        "zone",
	}
	for text, want := range cases {
		var s AgentSettings
		err := ParseAgent([]byte(text), "bad.ini", &s)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "bad.ini") {
			t.Errorf("%q: error %v, want it to name bad.ini and %q", text, err, want)
		}
	}
	var s AgentSettings
	if err := LoadAgent(filepath.Join(t.TempDir(), "missing.ini"), &s); err == nil {
		t.Error("missing file accepted")
	}
}

func TestParseAgentRouteServiceList(t *testing.T) {
	var s AgentSettings
	if err := ParseAgent([]byte("[dnsserver]\nip = 10.0.0.5, 10.0.0.6\nport = 7778\n"), "a.ini", &s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.RouteService, []string{"10.0.0.5:7778", "10.0.0.6:7778"}) {
		t.Fatalf("route service %q", s.RouteService)
	}
}

// TestParseAgentTLS: [tls] cert, key and ca name the agent's TLS files.
func TestParseAgentTLS(t *testing.T) {
	var s AgentSettings
	err := ParseAgent([]byte("[dnsserver]\nip = 127.0.0.1\nport = 7778\n[tls]\ncert = /etc/lars/agent.pem\nkey = /etc/lars/agent-key.pem\nca = /etc/lars/ca.pem\n"), "a.ini", &s)
	if err != nil {
		t.Fatal(err)
	}
	want := tlsconf.Files{Cert: "/etc/lars/agent.pem", Key: "/etc/lars/agent-key.pem", CA: "/etc/lars/ca.pem"}
	if s.TLS != want {
		t.Fatalf("TLS %+v, want %+v", s.TLS, want)
	}
}

func TestParseAgentPolicies(t *testing.T) {
	var s AgentSettings
	err := ParseAgent([]byte("[loadbalance]\npolicy = ewma\npanic_threshold = 50%\noverload_backoff = 2x\n"+
		"overload_timeout_max = 120\ninflight_timeout = 500ms\newma_decay = 5s\nslow_start = 30\nzone_min_usable = 70%\n"+
		"zone = eu-west-1a\n"), "a.ini", &s)
	if err != nil {
		t.Fatal(err)
	}
	want := lb.Policies{Pick: lb.PolicyEWMA, PanicThreshold: 50, OverloadBackoff: 2,
		OverloadTimeoutMax: 2 * time.Minute, InflightTimeout: 500 * time.Millisecond, EWMADecay: 5 * time.Second,
		SlowStart: 30 * time.Second, ZoneMinUsable: 70}
	if s.Table.Zone != "eu-west-1a" {
		t.Fatalf("zone %q", s.Table.Zone)
	}
	if s.Table.Policies != want {
		t.Fatalf("policies %+v, want %+v", s.Table.Policies, want)
	}
	if s.Table.Settings != lb.DefaultSettings() {
		t.Fatalf("settings %+v, want the defaults", s.Table.Settings)
	}
}
