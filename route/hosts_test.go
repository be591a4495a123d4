package route

import (
	"net/netip"
	"testing"
)

func host(s string) Host {
	h, err := ParseHostText(s)
	if err != nil {
		panic(err)
	}
	return h
}

func hosts(ss ...string) []Host {
	out := make([]Host, len(ss))
	for i, s := range ss {
		out[i] = host(s)
	}
	return out
}

func TestNormalizeOrderAndFirstWins(t *testing.T) {
	in := hosts("[::1]:80", "200.0.0.1:80", "10.0.0.1:81", "10.0.0.1:80;weight=5", "10.0.0.1:80;weight=9", "127.0.0.1:80")
	got := Normalize(in)
	want := hosts("10.0.0.1:80;weight=5", "10.0.0.1:81", "127.0.0.1:80", "200.0.0.1:80", "[::1]:80")
	if !Equal(got, want) {
		t.Fatalf("Normalize = %v, want %v", got, want)
	}
}

func TestIPv4OrderIsUnsignedWireOrder(t *testing.T) {
	// 200.0.0.1 is negative on the wire but sorts after 127.0.0.1, as the store's
	// unsigned column does.
	a, b := FromWire(2130706433, 1), host("200.0.0.1:1")
	if Compare(a, b) >= 0 {
		t.Fatal("127.0.0.1 does not sort before 200.0.0.1")
	}
}

func TestDiff(t *testing.T) {
	old := Normalize(hosts("10.0.0.1:80", "10.0.0.2:80;weight=5", "10.0.0.3:80"))
	want := Normalize(hosts("10.0.0.2:80;weight=6", "10.0.0.3:80", "[2001:db8::1]:80"))
	removed, added, changed := Diff(old, want)
	if !Equal(removed, hosts("10.0.0.1:80")) || !Equal(added, hosts("[2001:db8::1]:80")) || !Equal(changed, hosts("10.0.0.2:80;weight=6")) {
		t.Fatalf("Diff = %v, %v, %v", removed, added, changed)
	}
	if r, a, c := Diff(want, want); r != nil || a != nil || c != nil {
		t.Fatal("Diff of equal lists not empty")
	}
}

func TestFind(t *testing.T) {
	hs := Normalize(hosts("10.0.0.1:80", "10.0.0.2:80;zone=a", "[::2]:80"))
	if i := Find(hs, host("10.0.0.2:80")); i != 1 {
		t.Fatalf("Find by address = %d, want 1 (weight and zone ignored)", i)
	}
	if i := Find(hs, host("10.0.0.2:81")); i != -1 {
		t.Fatalf("Find missing = %d", i)
	}
}

func TestWireForm(t *testing.T) {
	cases := []struct {
		addr string
		wire int32
	}{
		{"0.0.0.0", 0}, {"127.0.0.1", 2130706433}, {"127.255.255.255", 0x7fffffff},
		{"128.0.0.0", -1 << 31}, {"192.168.1.1", -1062731519}, {"255.255.255.255", -1},
	}
	for _, c := range cases {
		if got, err := ParseWireIP(c.addr); err != nil || got != c.wire {
			t.Errorf("ParseWireIP(%s) = %d, %v", c.addr, got, err)
		}
		if a := AddrFromWire(c.wire); a.String() != c.addr {
			t.Errorf("AddrFromWire(%d) = %s", c.wire, a)
		}
		mapped := netip.AddrFrom16(netip.MustParseAddr(c.addr).As16())
		if got, ok := WireIP(mapped); !ok || got != c.wire {
			t.Errorf("WireIP(mapped %s) = %d, %v", c.addr, got, ok)
		}
	}
	h := FromWire(-1062731519, 8080)
	if ip, port, ok := h.Wire(); !ok || ip != -1062731519 || port != 8080 || h.String() != "192.168.1.1:8080" {
		t.Fatalf("FromWire/Wire = %v %d %d %v", h, ip, port, ok)
	}
	if _, _, ok := host("[::1]:80").Wire(); ok {
		t.Fatal("IPv6 host has a wire IPv4 form")
	}
	if _, err := ParseWireIP("::1"); err == nil {
		t.Fatal("ParseWireIP(::1) accepted")
	}
	if !AllIPv4(hosts("1.1.1.1:1", "2.2.2.2:2")) || AllIPv4(hosts("1.1.1.1:1", "[::1]:2")) {
		t.Fatal("AllIPv4 wrong")
	}
	if !AllPlain(hosts("1.1.1.1:1", "2.2.2.2:2")) || AllPlain(hosts("1.1.1.1:1;weight=2")) ||
		AllPlain(hosts("1.1.1.1:1;zone=a")) || AllPlain(hosts("[::1]:2")) {
		t.Fatal("AllPlain wrong")
	}
}
