package loadgen

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/larsgo/lars/route"
)

func TestRing(t *testing.T) {
	r := newRing(64)
	key := route.PackKey(1, 2)
	s1, _ := r.issue(key, 100, phaseMeasured)
	s2, _ := r.issue(key, 200, phaseMeasured)
	if res, at, _ := r.matchSeq(s1, key, 0); res != matchOK || at != 100 {
		t.Errorf("first answer: %d at %d", res, at)
	}
	if res, _, _ := r.matchSeq(s1, key, 0); res != matchDuplicate {
		t.Errorf("second answer: %d, want duplicate", res)
	}
	if res, _, _ := r.matchSeq(s2, route.PackKey(9, 9), 0); res != matchWrongKey {
		t.Errorf("wrong key: %d", res)
	}
	if n := r.expire(200); n[phaseMeasured] != 1 {
		t.Errorf("expired %v, want 1", n)
	}
	if res, _, _ := r.matchSeq(s2, key, 0); res != matchLate {
		t.Errorf("answer after timeout: %d, want late", res)
	}
	if res, _, _ := r.matchSeq(s2+5, key, 0); res != matchUnknown {
		t.Errorf("unknown seq: %d", res)
	}
	// get_route: oldest pending of the key first
	var from uint32
	s3, _ := r.issue(key, 300, phaseMeasured)
	r.issue(key, 400, phaseMeasured)
	if res, at, _ := r.matchKey(key, &from, 0); res != matchOK || at != 300 {
		t.Errorf("route answer: %d at %d (seq %d)", res, at, s3)
	}
	// a slot busy for more than a whole ring is skipped, not reused
	r2 := newRing(64)
	old, _ := r2.issue(key, 0, phaseMeasured)
	for i := range 200 {
		s, ok := r2.issue(key, int64(i+1), phaseMeasured)
		if !ok || s&r2.mask == old&r2.mask {
			t.Fatalf("issue %d: seq %d ok %v reuses the busy slot of %d", i, s, ok, old)
		}
		r2.matchSeq(s, key, 0)
	}
	if res, _, _ := r2.matchSeq(old, key, -1); res != matchOK {
		t.Errorf("old request: %d, want still answerable", res)
	}
}

func TestParse(t *testing.T) {
	m, err := ParseMix("get_host=90,get_route=5,report=5")
	if err != nil || m != (Mix{90, 5, 5}) {
		t.Errorf("mix %v %v", m, err)
	}
	for _, bad := range []string{"", "get_host", "foo=1", "get_host=-1", "get_host=0"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
	if r, err := ParseRange("1-1000"); err != nil || r != (Range{1, 1000}) {
		t.Errorf("range %v %v", r, err)
	}
	if r, err := ParseRange("7"); err != nil || r != (Range{7, 7}) {
		t.Errorf("range %v %v", r, err)
	}
	for _, bad := range []string{"", "5-1", "a-b", "1-99999999999"} {
		if _, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) accepted", bad)
		}
	}
	if _, err := ParseHosts("127.0.0.1:7000,10.0.0.1:80"); err != nil {
		t.Error(err)
	}
	if _, err := ParseHosts("[::1]:80"); err == nil {
		t.Error("IPv6 host accepted")
	}
}

func TestKeyPorts(t *testing.T) {
	ks := newKeySpace(&Config{Modids: Range{1, 10}, Cmdids: Range{1, 3}, Ports: []int{1, 2, 3}}, rand.New(rand.NewPCG(1, 1)))
	for i := range ks.n {
		m, c := ks.key(i)
		if j, ok := ks.index(m, c); !ok || j != i {
			t.Errorf("key %d -> (%d, %d) -> %d", i, m, c, j)
		}
		if p := ks.port(m, c); p != int((m+c)%3) {
			t.Errorf("key (%d, %d) -> port %d", m, c, p)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Target: "example.com"}, {Ports: []int{0}}, {Timeout: 5 * time.Second}, {ReportFail: 2},
		{Modids: Range{5, 1}}, {ZipfS: 1}, {Rate: -1},
	} {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
