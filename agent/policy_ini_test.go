package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/lb"
)

func TestLoadINIPolicies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ini")
	os.WriteFile(path, []byte("[loadbalance]\npolicy = ewma\npanic_threshold = 50%\noverload_backoff = 2x\n"+
		"overload_timeout_max = 120\ninflight_timeout = 500ms\newma_decay = 5s\n"), 0o644)
	var cfg Config
	if err := LoadINI(path, &cfg); err != nil {
		t.Fatal(err)
	}
	want := lb.Policies{Pick: lb.PolicyEWMA, PanicThreshold: 50, OverloadBackoff: 2,
		OverloadTimeoutMax: 2 * time.Minute, InflightTimeout: 500 * time.Millisecond, EWMADecay: 5 * time.Second}
	if cfg.Table.Policies != want {
		t.Fatalf("policies %+v, want %+v", cfg.Table.Policies, want)
	}
	if cfg.Table.Settings != lb.DefaultSettings() {
		t.Fatalf("settings %+v, want the defaults", cfg.Table.Settings)
	}
}

func TestLoadINIPolicyErrors(t *testing.T) {
	for text, want := range map[string]string{
		"[loadbalance]\npolicy=random\n":          "policy",
		"[loadbalance]\npanic_threshold=half\n":   "panic_threshold",
		"[loadbalance]\noverload_backoff=twice\n": "overload_backoff",
		"[loadbalance]\newma_decay=slow\n":        "ewma_decay",
	} {
		path := filepath.Join(t.TempDir(), "bad.ini")
		os.WriteFile(path, []byte(text), 0o644)
		var cfg Config
		if err := LoadINI(path, &cfg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to name %q", text, err, want)
		}
	}
	// In range for the reader, out of range for New.
	path := filepath.Join(t.TempDir(), "a.ini")
	os.WriteFile(path, []byte("[loadbalance]\npanic_threshold=150\n"), 0o644)
	var cfg Config
	if err := LoadINI(path, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Routes = map[lb.Key][]lb.Host{}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "panic_threshold") {
		t.Fatalf("New: %v, want an error naming panic_threshold", err)
	}
}
