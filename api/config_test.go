package api_test

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/larsgo/lars/api"
)

func TestConfigDefaults(t *testing.T) {
	c := newClient(t, api.Config{})
	if got := c.Agent(); got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("agent %v", got)
	}
	if got := c.Ports(); !slices.Equal(got, []uint16{8888, 8889, 8890}) {
		t.Errorf("ports %v", got)
	}
	if p := c.Port(1, 1); p != 8890 {
		t.Errorf("port of key (1, 1) = %d, want 8890", p)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]api.Config{
		"port 0":           {Ports: []uint16{8888, 0}},
		"negative timeout": {Timeout: -1},
		"negative slots":   {MaxInFlight: -1},
		"too many slots":   {MaxInFlight: 1<<16 + 1},
	} {
		if c, err := api.New(cfg); err == nil {
			c.Close()
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}
