package main

import (
	"testing"
	"time"
)

func TestHostModelFlags(t *testing.T) {
	o, _, err := parseFlags([]string{"-host-latency", "10.0.1.1:8001=50ms,*=5ms", "-host-fail", "10.0.1.2:8002=0.5", "-host-flap", "10.0.1.3:8003=2s"}, false)
	if err != nil {
		t.Fatal(err)
	}
	m := o.cfg.Hosts
	if b := m.Behaviour(10<<24|1<<8|1, 8001); b.Latency != 50*time.Millisecond {
		t.Fatalf("host 1: %+v", b)
	}
	if b := m.Behaviour(10<<24|1<<8|3, 8003); b.FlapPeriod != 2*time.Second || b.Latency != 5*time.Millisecond {
		t.Fatalf("host 3: %+v", b)
	}
	for _, bad := range [][]string{{"-host-latency", "10.0.1.1:8001"}, {"-host-fail", "10.0.1.1:8001=2"}, {"-host-flap", "x=1s"}} {
		if code, _, _ := runCLI(bad...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", bad, code, exitUsage)
		}
	}
}
