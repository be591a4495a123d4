package agent

import (
	"slices"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/route"
)

func TestSplitAddrs(t *testing.T) {
	good := func(in string, want ...string) {
		t.Helper()
		got, err := SplitAddrs(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SplitAddrs(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	good("127.0.0.1:7778", "127.0.0.1:7778")
	good("a:7778,b:7778", "a:7778", "b:7778")
	good(" a:1 , [::1]:2 ", "a:1", "[::1]:2")
	bad := func(in, want string) {
		t.Helper()
		if _, err := SplitAddrs(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("SplitAddrs(%q): error %v, want it to say %q", in, err, want)
		}
	}
	bad("", "not HOST:PORT")
	bad("a:1,", `"" is not HOST:PORT`)
	bad("a:1,,b:2", "not HOST:PORT")
	bad("a:1,nohostport", `"nohostport" is not HOST:PORT`)
	bad("a:", "not HOST:PORT")
	bad("a:1, a:1", "listed twice")
}

func TestNewRejectsBadRouteService(t *testing.T) {
	_, err := New(Config{RouteService: []string{"a:1", "b"}, Ports: []int{0}, SocketsPerPort: 1})
	if err == nil || !strings.Contains(err.Error(), "invalid route service") {
		t.Fatalf("New: %v, want an invalid route service error", err)
	}
}

func FuzzSplitAddrs(f *testing.F) {
	for _, s := range []string{"a:1", "a:1,b:2", " [::1]:7778 ,x:y", "a:1,", ",", "a:1,a:1", "nohostport"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		addrs, err := SplitAddrs(in)
		if err != nil {
			return
		}
		if len(addrs) == 0 {
			t.Fatalf("SplitAddrs(%q) accepted no address", in)
		}
		// What it accepts splits again to itself.
		again, err := SplitAddrs(strings.Join(addrs, ","))
		if err != nil || !slices.Equal(again, addrs) {
			t.Fatalf("SplitAddrs(%q) = %q, which splits again to %q, %v", in, addrs, again, err)
		}
	})
}

func TestNewRejectsUnknownWait(t *testing.T) {
	_, err := New(Config{Routes: map[route.Key][]route.Host{}, Ports: []int{0}, SocketsPerPort: 1, Wait: batchio.Wait(7)})
	if err == nil || !strings.Contains(err.Error(), "invalid wait mode") {
		t.Fatalf("New: %v, want an invalid wait mode error", err)
	}
}

func TestWaitDefaultsToBlocking(t *testing.T) {
	c, err := Config{Routes: map[route.Key][]route.Host{}}.withDefaults()
	if err != nil || c.Wait != batchio.WaitBlocking {
		t.Fatalf("withDefaults: Wait %v, %v; want block", c.Wait, err)
	}
}
