package agent

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/lb"
	"gopkg.in/ini.v1"
)

func TestLoadINIExample(t *testing.T) {
	var cfg Config
	if err := LoadINI("../examples/lars-agent.ini", &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.ReportService != "127.0.0.1:7779" || !slices.Equal(cfg.RouteService, []string{"127.0.0.1:7778"}) {
		t.Fatalf("services %q %q", cfg.ReportService, cfg.RouteService)
	}
	if cfg.Table.Settings != lb.DefaultSettings() {
		t.Fatalf("settings %+v, want the Lars defaults", cfg.Table.Settings)
	}
}

func TestLoadINIValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ini")
	os.WriteFile(path, []byte("[loadbalance]\nprobe_num=3\nerr_rate = 0.2\nidle_timeout=1500ms\noverload_timeout=7\nlocal_ip=10.1.2.3\nmax_keys=5000\n"+
		"max_no_route_keys=700\nno_answer_ttl=5\nunknown_key_rate=50\nunknown_key_sources=64\nallow_remote_get_route=true\n"), 0o644)
	var cfg Config
	if err := LoadINI(path, &cfg); err != nil {
		t.Fatal(err)
	}
	s := cfg.Table.Settings
	if s.ProbeNum != 3 || s.ErrRate != 0.2 || s.IdleTimeout != 1500*time.Millisecond || s.OverloadTimeout != 7*time.Second {
		t.Fatalf("settings %+v", s)
	}
	if s.InitSuccCnt != lb.DefaultInitSuccCnt {
		t.Fatalf("keys not given must keep their defaults: %+v", s)
	}
	if cfg.Table.MaxKeys != 5000 {
		t.Fatalf("max_keys: MaxKeys %d, want 5000", cfg.Table.MaxKeys)
	}
	if cfg.Table.MaxNoRouteKeys != 700 || cfg.Table.NoAnswerTTL != 5*time.Second || cfg.UnknownKeyRate != 50 ||
		cfg.UnknownKeySources != 64 || !cfg.AllowRemoteGetRoute {
		t.Fatalf("unknown-key bounds: %d %v %d %d %v", cfg.Table.MaxNoRouteKeys, cfg.Table.NoAnswerTTL,
			cfg.UnknownKeyRate, cfg.UnknownKeySources, cfg.AllowRemoteGetRoute)
	}
	if cfg.Caller.String() != "10.1.2.3" || cfg.ReportService != "" {
		t.Fatalf("caller %v reporter %q", cfg.Caller, cfg.ReportService)
	}
}

func TestLoadINIErrors(t *testing.T) {
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
	}
	for text, want := range cases {
		path := filepath.Join(t.TempDir(), "bad.ini")
		os.WriteFile(path, []byte(text), 0o644)
		var cfg Config
		err := LoadINI(path, &cfg)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to name %q", text, err, want)
		}
	}
	var cfg Config
	if err := LoadINI("/nonexistent.ini", &cfg); err == nil {
		t.Error("missing file accepted")
	}
}

func TestLoadINIRouteServiceList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ini")
	os.WriteFile(path, []byte("[dnsserver]\nip = 10.0.0.5, 10.0.0.6\nport = 7778\n"), 0o644)
	var cfg Config
	if err := LoadINI(path, &cfg); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.RouteService, []string{"10.0.0.5:7778", "10.0.0.6:7778"}) {
		t.Fatalf("route service %q", cfg.RouteService)
	}
}

// TestValidateSettingsFromINI: a value out of range passes the INI reader but not
// New, with an error naming the key.
func TestValidateSettingsFromINI(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ini")
	os.WriteFile(path, []byte("[loadbalance]\nerr_rate=1.5\n"), 0o644)
	var cfg Config
	if err := LoadINI(path, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Routes = map[lb.Key][]lb.Host{}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "err_rate") {
		t.Fatalf("New: %v, want an error naming err_rate", err)
	}
}

func FuzzApplyINI(f *testing.F) {
	example, _ := os.ReadFile("../examples/lars-agent.ini")
	f.Add(example)
	f.Add([]byte("[loadbalance]\nprobe_num=3\n"))
	f.Add([]byte("[reporter]\nport=x\n"))
	f.Add([]byte("[dnsserver]\nip=10.0.0.5,10.0.0.6\nport=7778\n"))
	f.Add([]byte("[loadbalance]\npolicy=ewma\npanic_threshold=50%\noverload_backoff=2x\newma_decay=5s\n"))
	f.Add([]byte("[loadbalance]\nmax_no_route_keys=7\nno_answer_ttl=2s\nunknown_key_rate=-1\nunknown_key_sources=3\nallow_remote_get_route=1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ini.Load(data)
		if err != nil {
			return
		}
		var cfg Config
		if err := applyINI(file, &cfg); err != nil {
			return
		}
		// Whatever it accepted, New either accepts or says why; never panics.
		cfg.Routes = map[lb.Key][]lb.Host{}
		cfg.Ports = []int{0}
		cfg.SocketsPerPort = 1
		if a, err := New(cfg); err == nil {
			a.Close()
		}
	})
}
