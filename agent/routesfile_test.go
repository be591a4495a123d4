package agent

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/route"
)

func writeRoutesFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "routes.txt")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadRoutesFile: the routes file takes IPv6 hosts, weights and zones
// (route.ParseRoutes); each key's hosts come out sorted by address.
func TestLoadRoutesFile(t *testing.T) {
	path := writeRoutesFile(t, "# comment\n\n  1 1 127.0.0.2 7001 weight=300 zone=a\n"+
		"1\t1\t2001:db8::1\t7000 zone=b # trailing comment\n1 1 127.0.0.1 7000\n1 1 127.0.0.1 7000\n2 3 [::1] 80 weight=5\n")
	routes, err := LoadRoutesFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mp := netip.MustParseAddrPort
	want := map[route.Key][]route.Host{
		{Modid: 1, Cmdid: 1}: {{Addr: mp("127.0.0.1:7000")}, {Addr: mp("127.0.0.2:7001"), Weight: 300, Zone: "a"},
			{Addr: mp("[2001:db8::1]:7000"), Zone: "b"}},
		{Modid: 2, Cmdid: 3}: {{Addr: mp("[::1]:80"), Weight: 5}},
	}
	if len(routes) != len(want) {
		t.Fatalf("routes %v", routes)
	}
	for k, hs := range want {
		if !route.Equal(routes[k], hs) {
			t.Fatalf("key %v: %v, want %v", k, routes[k], hs)
		}
	}
}

func TestLoadRoutesFileErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"1 1 127.0.0.1\n", "line 1: want \"modid cmdid ip port [weight=N] [zone=NAME]\""},
		{"\n# c\nx 1 127.0.0.1 7000\n", "line 3: modid"},
		{"1 1 10.0.0.256 7000\n", "line 1: bad host: IP"},
		{"1 1 fe80::1%eth0 7000\n", "IPv6 scope"},
		{"1 1 127.0.0.1 65536\n", "port"},
		{"1 1 127.0.0.1 80 weight=0\n", "weight"},
		{"1 1 127.0.0.1 80 zone=a/b\n", "zone"},
		{"1 1 127.0.0.1 80 zone=a\n1 1 127.0.0.1 80 zone=b\n", "line 2"},
		{strings.Repeat("1", 5000) + "\n", "line 1: line longer"},
	}
	for _, c := range cases {
		path := writeRoutesFile(t, c.in)
		_, err := LoadRoutesFile(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) ||
			!errors.Is(err, route.ErrBadRoutes) {
			t.Errorf("%q: error %v, want one naming the file with %q", c.in, err, c.want)
		}
	}
	if _, err := LoadRoutesFile(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "cannot open routes file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestExampleRoutesFile(t *testing.T) {
	routes, err := LoadRoutesFile("../examples/routes.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 101 || len(routes[route.Key{Modid: 1000, Cmdid: 1}]) != 100 || len(routes[route.Key{Modid: 7, Cmdid: 1}]) != 10 {
		t.Fatalf("%d keys", len(routes))
	}
}
