package agent

import (
	"errors"
	"strings"
	"testing"

	"github.com/larsgo/lars/lb"
)

func TestParseRoutes(t *testing.T) {
	in := "# comment\n\n  1 1 127.0.0.1 7000\n1\t1\t127.0.0.2\t7001 # trailing comment\n1 1 127.0.0.1 7000\n2 3 192.168.1.1 80\n-5 2147483647 0.0.0.0 65535\n"
	routes, err := ParseRoutes(strings.NewReader(in), "test")
	if err != nil {
		t.Fatal(err)
	}
	want := map[lb.Key][]lb.Host{
		{Modid: 1, Cmdid: 1}:           {{IP: 2130706433, Port: 7000}, {IP: 2130706434, Port: 7001}},
		{Modid: 2, Cmdid: 3}:           {{IP: -1062731519, Port: 80}},
		{Modid: -5, Cmdid: 2147483647}: {{IP: 0, Port: 65535}},
	}
	if len(routes) != len(want) {
		t.Fatalf("routes %v", routes)
	}
	for k, hs := range want {
		if len(routes[k]) != len(hs) {
			t.Fatalf("key %v: %v, want %v", k, routes[k], hs)
		}
		for i := range hs {
			if routes[k][i] != hs[i] {
				t.Fatalf("key %v: %v, want %v", k, routes[k], hs)
			}
		}
	}
}

func TestParseRoutesErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"1 1 127.0.0.1\n", "line 1: want 4 fields"},
		{"1 1 127.0.0.1 7000 extra\n", "line 1: want 4 fields"},
		{"\n# c\nx 1 127.0.0.1 7000\n", "line 3: modid"},
		{"1 99999999999 127.0.0.1 7000\n", "cmdid"},
		{"1 1 ::1 7000\n", "ip"},
		{"1 1 10.0.0.256 7000\n", "ip"},
		{"1 1 127.0.0.1 0\n", "port"},
		{"1 1 127.0.0.1 65536\n", "port"},
		{"1 1 127.0.0.1 -1\n", "port"},
		{strings.Repeat("1", 5000) + "\n", "line 1: line longer"},
	}
	for _, c := range cases {
		_, err := ParseRoutes(strings.NewReader(c.in), "f")
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrBadRoutes) {
			t.Errorf("%q: error %v, want one with %q", c.in, err, c.want)
		}
	}
}

func FuzzParseRoutes(f *testing.F) {
	f.Add("1 1 127.0.0.1 7000\n")
	f.Add("# c\n\n2 3 192.168.1.1 80 # x\n")
	f.Add("1 1 127.0.0.1\n")
	f.Fuzz(func(t *testing.T, in string) {
		routes, err := ParseRoutes(strings.NewReader(in), "fuzz")
		if err != nil {
			if !errors.Is(err, ErrBadRoutes) {
				t.Fatalf("error %v does not wrap ErrBadRoutes", err)
			}
			return
		}
		for k, hs := range routes {
			if len(hs) == 0 {
				t.Fatalf("key %v without hosts", k)
			}
			for _, h := range hs {
				if h.Port < 1 || h.Port > 65535 {
					t.Fatalf("port %d accepted", h.Port)
				}
			}
		}
	})
}

func TestExampleRoutesFile(t *testing.T) {
	routes, err := LoadRoutesFile("../examples/routes.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 101 || len(routes[lb.Key{Modid: 1000, Cmdid: 1}]) != 100 || len(routes[lb.Key{Modid: 7, Cmdid: 1}]) != 10 {
		t.Fatalf("%d keys", len(routes))
	}
}
