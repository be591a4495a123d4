package hostmodel

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	var m Model
	if err := Parse(&m, "10.0.1.1:8001=50ms,*=5ms", "10.0.1.2:8002=0.5", "10.0.1.3:8003=2s"); err != nil {
		t.Fatal(err)
	}
	ip := func(last int32) int32 { return 10<<24 | 1<<8 | last }
	if b := m.Behaviour(ip(1), 8001); b.Latency != 50*time.Millisecond || b.Fail != 0 { // listed before *, not overridden
		t.Fatalf("host 1: %+v", b)
	}
	if b := m.Behaviour(ip(2), 8002); b.Latency != 5*time.Millisecond || b.Fail != 0.5 {
		t.Fatalf("host 2 (default latency, own failure rate): %+v", b)
	}
	if b := m.Behaviour(ip(9), 8009); b.Latency != 5*time.Millisecond {
		t.Fatalf("other host: %+v", b)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	if lat, failed := m.Call(ip(3), 8003, 500*time.Millisecond, rng); failed || lat != 5*time.Millisecond {
		t.Fatalf("flapping host in its good half: %v %v", lat, failed)
	}
	if _, failed := m.Call(ip(3), 8003, 1500*time.Millisecond, rng); !failed {
		t.Fatal("flapping host in its bad half did not fail")
	}
	fails := 0
	for range 10_000 {
		if _, f := m.Call(ip(2), 8002, 0, rng); f {
			fails++
		}
	}
	if fails < 4700 || fails > 5300 {
		t.Fatalf("host failing half its calls failed %d of 10000", fails)
	}
	for _, bad := range [][3]string{{"10.0.1.1:8001", "", ""}, {"10.0.1.1:8001=soon", "", ""}, {"", "10.0.1.1:1=2", ""},
		{"", "", "10.0.1.1:1=0s"}, {"host:1=5ms", "", ""}, {"[::1]:5=5ms", "", ""}} {
		var m Model
		if err := Parse(&m, bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var empty Model
	if !empty.Empty() || m.Empty() {
		t.Fatal("Empty")
	}
}

func TestSpreadAndOutage(t *testing.T) {
	m := Model{Default: Behaviour{Latency: 10 * time.Millisecond, Spread: 0.3, DownFrom: time.Second, DownUntil: 2 * time.Second}}
	rng := rand.New(rand.NewPCG(3, 4))
	var below int
	for range 10_000 {
		lat, failed := m.Call(1, 1, 0, rng)
		if failed {
			t.Fatal("failed outside the outage")
		}
		if lat < 10*time.Millisecond {
			below++
		}
	}
	if below < 4700 || below > 5300 {
		t.Fatalf("%d of 10000 below the median", below)
	}
	if _, failed := m.Call(1, 1, 1500*time.Millisecond, rng); !failed {
		t.Fatal("no failure in the outage")
	}
}

func FuzzParse(f *testing.F) {
	f.Add("10.0.1.1:8001=50ms,*=5ms", "10.0.1.2:8002=0.5", "10.0.1.3:8003=2s")
	f.Add("*=1s", "", "")
	f.Add("=", "a=b", ",")
	f.Fuzz(func(t *testing.T, lat, fail, flap string) {
		var m Model
		if err := Parse(&m, lat, fail, flap); err != nil {
			return
		}
		for _, b := range m.Hosts {
			if b.Latency < 0 || b.Fail < 0 || b.Fail > 1 || b.FlapPeriod < 0 {
				t.Fatalf("accepted an out-of-range behaviour %+v", b)
			}
		}
	})
}
