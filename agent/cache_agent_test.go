package agent_test

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestRouteCacheServesWhileRouteServiceDown: an agent that learned routes writes its
// cache; a new agent started with that cache while the route service is down serves
// them at once: its very first get_host is answered with a cached host. Without the
// cache that first call would be RET_NOEXIST (an unknown key is pulled), and no pull
// can be answered here, so the answer proves the cache was served, however long the
// machine took to start the agent.
func TestRouteCacheServesWhileRouteServiceDown(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "routes.cache")
	dns := larstest.NewRouteService(t)
	dns.SetRoute(1, 1, h1, h2)
	dns.SetRoute(2, 2, h3)
	s := fastSettings()
	first := startAgent(t, agent.Config{RouteService: []string{dns.Addr()}, CacheFile: cache, CacheInterval: 50 * time.Millisecond,
		SweepInterval: 10 * time.Millisecond, Table: lb.Config{Settings: s}})
	c := dial(t, first.Addrs()[0])
	c.getHost(1, 1, 1)
	c.getHost(2, 2, 2)
	waitRoute(t, c, 1, 1, h1, h2)
	waitRoute(t, c, 2, 2, h3)
	eventually(t, patience, "cache written with both keys", func() bool {
		routes, err := agent.LoadCache(cache)
		return err == nil && len(routes) == 2
	})
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := startAgent(t, agent.Config{RouteService: []string{closedAddr(t)}, CacheFile: cache, SweepInterval: 10 * time.Millisecond,
		Table: lb.Config{Settings: s}})
	c2 := dial(t, second.Addrs()[0])
	if m := c2.getHost(1, 2, 2); m.Retcode != 0 || m.Host.GetIp() != wireIP(h3) {
		t.Fatalf("first answer from the cache: %v", m)
	}
	if !hasMetrics(second, "lars_agent_route_cache_keys_loaded 2") {
		t.Fatal("cache load not in /metrics")
	}
}

// TestRouteCacheReplacedByFreshRoutes: a cache older than a route change serves at
// start; the route service's answers then replace it, and a key it answers empty is
// removed.
func TestRouteCacheReplacedByFreshRoutes(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "routes.cache")
	if err := agent.WriteCache(cache, map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: {h1}, {Modid: 2, Cmdid: 2}: {h3}}, agent.CacheFileMode); err != nil {
		t.Fatal(err)
	}
	dns := larstest.NewRouteService(t)
	dns.SetRoute(1, 1, h2) // changed since the cache was written; 2/2 is gone
	s := fastSettings()
	s.UpdateTimeout = time.Hour // fresh routes come from the reconnect's pulls only
	a := startAgent(t, agent.Config{RouteService: []string{dns.Addr()}, CacheFile: cache, CacheInterval: 50 * time.Millisecond,
		SweepInterval: 10 * time.Millisecond, Table: lb.Config{Settings: s}})
	c := dial(t, a.Addrs()[0])
	waitRoute(t, c, 1, 1, h2)
	eventually(t, patience, "2/2 removed", func() bool { return c.getHost(9, 2, 2).Retcode == 3 })
	eventually(t, patience, "cache rewritten with the fresh routes", func() bool {
		routes, err := agent.LoadCache(cache)
		return err == nil && len(routes) == 1 && len(routes[route.Key{Modid: 1, Cmdid: 1}]) == 1 && routes[route.Key{Modid: 1, Cmdid: 1}][0] == h2
	})
}

// TestRouteCacheDamagedIgnored: a corrupt cache is logged and ignored; the agent starts
// and pulls as if it had none, and writes a good cache over it.
func TestRouteCacheDamagedIgnored(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "routes.cache")
	if err := os.WriteFile(cache, []byte("# lars-agent route cache v1 keys=1 hosts=1 crc32=00000000\n1 1 10.0.0.1 80\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dns := larstest.NewRouteService(t)
	dns.SetRoute(1, 1, h1)
	a := startAgent(t, agent.Config{RouteService: []string{dns.Addr()}, CacheFile: cache, CacheInterval: 50 * time.Millisecond,
		SweepInterval: 10 * time.Millisecond, Table: lb.Config{Settings: fastSettings()}})
	if !hasMetrics(a, "lars_agent_route_cache_errors_total 1", "lars_agent_route_cache_keys_loaded 0") {
		t.Fatal("damaged cache not counted")
	}
	c := dial(t, a.Addrs()[0])
	c.getHost(1, 1, 1)
	waitRoute(t, c, 1, 1, h1)
	eventually(t, patience, "a good cache written over the damaged one", func() bool {
		routes, err := agent.LoadCache(cache)
		return err == nil && len(routes) == 1
	})
}

func TestRouteCacheFromINI(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.ini")
	if err := os.WriteFile(path, []byte("[dnsserver]\nip = 127.0.0.1\nport = 7778\ncache = /var/lib/lars/routes.cache\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg agent.Config
	if err := agent.LoadINI(path, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.CacheFile != "/var/lib/lars/routes.cache" || !slices.Equal(cfg.RouteService, []string{"127.0.0.1:7778"}) {
		t.Fatalf("cache %q, route service %q", cfg.CacheFile, cfg.RouteService)
	}
}
