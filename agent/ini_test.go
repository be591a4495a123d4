package agent

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/larsconf"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
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

// TestLoadINIKeepsAbsentKeys: what the file does not set stays as it was in cfg,
// and what it sets lands in cfg.
func TestLoadINIKeepsAbsentKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ini")
	os.WriteFile(path, []byte("[reporter]\nip = 10.0.0.9\nport = 7779\n[loadbalance]\nunknown_key_rate = 40\n"), 0o644)
	cfg := Config{RouteService: []string{"10.0.0.1:7778"}, CacheFile: "/tmp/c", UnknownKeySources: 9}
	if err := LoadINI(path, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.ReportService != "10.0.0.9:7779" || cfg.UnknownKeyRate != 40 {
		t.Fatalf("set: report service %q, unknown_key_rate %d", cfg.ReportService, cfg.UnknownKeyRate)
	}
	if !slices.Equal(cfg.RouteService, []string{"10.0.0.1:7778"}) || cfg.CacheFile != "/tmp/c" || cfg.UnknownKeySources != 9 {
		t.Fatalf("kept: route service %q, cache %q, unknown_key_sources %d", cfg.RouteService, cfg.CacheFile, cfg.UnknownKeySources)
	}
	if err := LoadINI(filepath.Join(t.TempDir(), "missing.ini"), &cfg); err == nil {
		t.Fatal("missing file accepted")
	}
}

// TestValidateSettingsFromINI: a value out of range passes the INI reader but not
// New, with an error naming the key.
func TestValidateSettingsFromINI(t *testing.T) {
	for text, key := range map[string]string{
		"[loadbalance]\nerr_rate=1.5\n":        "err_rate",
		"[loadbalance]\npanic_threshold=150\n": "panic_threshold",
		"[loadbalance]\nslow_start=100ms\n":    "slow_start",
		"[loadbalance]\nzone_min_usable=101\n": "zone_min_usable",
	} {
		path := filepath.Join(t.TempDir(), "a.ini")
		os.WriteFile(path, []byte(text), 0o644)
		var cfg Config
		if err := LoadINI(path, &cfg); err != nil {
			t.Fatal(err)
		}
		cfg.Routes = map[route.Key][]route.Host{}
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), key) {
			t.Fatalf("New: %v, want an error naming %s", err, key)
		}
	}
}

// TestLoadINIZone: [loadbalance] zone, slow_start and zone_min_usable reach the table's
// config; New takes them.
func TestLoadINIZone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ini")
	os.WriteFile(path, []byte("[loadbalance]\nzone = eu-1a\nslow_start = 45s\nzone_min_usable = 80%\n"), 0o644)
	var cfg Config
	if err := LoadINI(path, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Table.Zone != "eu-1a" || cfg.Table.Policies.SlowStart != 45*time.Second || cfg.Table.Policies.ZoneMinUsable != 80 {
		t.Fatalf("zone %q, slow start %v, zone_min_usable %d", cfg.Table.Zone, cfg.Table.Policies.SlowStart, cfg.Table.Policies.ZoneMinUsable)
	}
	cfg.Routes, cfg.Ports, cfg.SocketsPerPort = map[route.Key][]route.Host{}, []int{0}, 1
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if p := a.Table().Policies(); p.SlowStart != 45*time.Second || p.ZoneMinUsable != 80 {
		t.Fatalf("table policies %+v", p)
	}
}

func FuzzApplyINI(f *testing.F) {
	example, _ := os.ReadFile("../examples/lars-agent.ini")
	f.Add(example)
	f.Add([]byte("[loadbalance]\nprobe_num=3\n"))
	f.Add([]byte("[reporter]\nport=x\n"))
	f.Add([]byte("[dnsserver]\nip=10.0.0.5,10.0.0.6\nport=7778\n"))
	f.Add([]byte("[loadbalance]\npolicy=ewma\npanic_threshold=50%\noverload_backoff=2x\newma_decay=5s\n"))
	f.Add([]byte("[loadbalance]\nzone=eu-west-1a\nzone_min_usable=70%\nslow_start=30s\n"))
	f.Add([]byte("[loadbalance]\nzone=a b\nslow_start=10ms\n"))
	f.Add([]byte("[loadbalance]\nmax_no_route_keys=7\nno_answer_ttl=2s\nunknown_key_rate=-1\nunknown_key_sources=3\nallow_remote_get_route=1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg Config
		s := cfg.confSettings()
		if err := larsconf.ParseAgent(data, "fuzz.ini", &s); err != nil {
			return
		}
		cfg.setConfSettings(s)
		// Whatever it accepted, New either accepts or says why; never panics.
		cfg.Routes = map[route.Key][]route.Host{}
		cfg.Ports = []int{0}
		cfg.SocketsPerPort = 1
		if a, err := New(cfg); err == nil {
			a.Close()
		}
	})
}
