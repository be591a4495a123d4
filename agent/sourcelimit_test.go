package agent

import (
	"net/netip"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/route"
)

func TestSourceLimiterBucket(t *testing.T) {
	clk := fakeclock.New()
	l := newSourceLimiter(10, 64, clk.Now)
	a := netip.MustParseAddrPort("127.0.0.1:4000")
	for i := range 10 {
		if !l.allow(a) {
			t.Fatalf("key %d of the first burst refused", i)
		}
	}
	if l.allow(a) {
		t.Fatal("11th key of a 10/s burst admitted")
	}
	if !l.allow(netip.MustParseAddrPort("127.0.0.1:4001")) {
		t.Fatal("another loopback port shares the bucket: each local client has its own")
	}
	clk.Advance(500 * time.Millisecond) // 5 tokens back
	for i := range 5 {
		if !l.allow(a) {
			t.Fatalf("key %d after half a second refused", i)
		}
	}
	if l.allow(a) || l.limited.Load() != 2 {
		t.Fatalf("refill beyond the rate, or refusals not counted (%d)", l.limited.Load())
	}
	clk.Advance(time.Hour) // the bucket holds one burst at most
	for range 10 {
		l.allow(a)
	}
	if l.allow(a) {
		t.Fatal("a long silence gave more than one burst")
	}
}

func TestSourceLimiterRemoteHostIsOneSource(t *testing.T) {
	l := newSourceLimiter(3, 64, fakeclock.New().Now)
	for port := range uint16(3) {
		l.allow(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.7"), 1000+port))
	}
	if l.allow(netip.MustParseAddrPort("10.0.0.7:2000")) {
		t.Fatal("a remote host got a new bucket with a new port")
	}
	if l.allow(netip.MustParseAddrPort("[::ffff:10.0.0.7]:2001")) {
		t.Fatal("the IPv4-mapped form of a remote host is another source")
	}
	if !l.allow(netip.MustParseAddrPort("10.0.0.8:2000")) {
		t.Fatal("another host limited")
	}
}

// TestSourceLimiterBounded: many sources never grow the limiter; the sources
// forgotten to make room are counted and start again with a full bucket.
func TestSourceLimiterBounded(t *testing.T) {
	l := newSourceLimiter(1, 64, fakeclock.New().Now)
	if len(l.sets)*sourceWays != 64 {
		t.Fatalf("%d entries for 64 sources", len(l.sets)*sourceWays)
	}
	for i := range 10_000 {
		l.allow(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(i)))
	}
	if ev := l.evicted.Load(); ev != 10_000-64 {
		t.Fatalf("%d sources evicted, want %d", ev, 10_000-64)
	}
}

func TestUnknownKeySourcesBounded(t *testing.T) {
	for _, n := range []int{-1, maxUnknownKeySources + 1} {
		if _, err := (Config{Routes: map[route.Key][]route.Host{}, UnknownKeySources: n}).withDefaults(); err == nil {
			t.Errorf("UnknownKeySources %d accepted", n)
		}
	}
}
