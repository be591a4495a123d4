package agent_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/agent"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/routesvc"
	"github.com/larsgo/lars/store"
)

// startRegisterDNS starts lars-dns (routesvc) on a new SQLite store, taking
// registrations from anyone if allow.
func startRegisterDNS(t *testing.T, allow bool) string {
	t.Helper()
	dns := newRegisterDNS(t, filepath.Join(t.TempDir(), "lars.db"), allow)
	runService(t, dns.Run, dns.Ready())
	return dns.Addr().String()
}

// newRegisterDNS returns lars-dns on the SQLite store at path, not started.
func newRegisterDNS(t *testing.T, path string, allow bool) *routesvc.Service {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dns, err := routesvc.New(routesvc.Config{Store: db, Listen: "127.0.0.1:0", Poll: 20 * time.Millisecond,
		AllowRegister: allow, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return dns
}

// registerTTL sends a RegisterRequest of key31 for 127.0.0.1:port with ttl.
func (c *client) registerTTL(op pb.RegisterOp, port int32, ttl time.Duration) *pb.RegisterReply {
	c.t.Helper()
	id, body := c.roundTrip(frameOf(c.t, 103, &pb.RegisterRequest{Modid: key31.Modid, Cmdid: key31.Cmdid,
		Host: &pb.HostInfo{Ip: ip("127.0.0.1"), Port: port}, Op: op, TtlMs: uint32(ttl / time.Millisecond)}))
	if id != 104 {
		c.t.Fatalf("answer msgid %d, want 104", id)
	}
	var m pb.RegisterReply
	if err := m.UnmarshalVT(body); err != nil {
		c.t.Fatal(err)
	}
	return &m
}

// TestRegisterWithRouteService: against the real lars-dns, an instance registered
// through one agent is served by another, leaves its route at once when deregistered,
// and within its ttl when its owner stops keeping it alive.
func TestRegisterWithRouteService(t *testing.T) {
	dns := startRegisterDNS(t, true)
	cfg := agent.Config{RouteService: []string{dns}, SweepInterval: 10 * time.Millisecond, Table: lb.Config{Settings: fastSettings()}}
	owner := dial(t, startAgent(t, cfg).Addrs()[0])
	other := dial(t, startAgent(t, cfg).Addrs()[0])
	self := route.HostAt(host("127.0.0.1", 9000))

	owner.registerTTL(pb.RegisterOp_REGISTER_NEW, 9000, time.Second)
	keepUntil(t, owner, other, time.Second, "served by the other agent", self)
	if r := owner.registerTTL(pb.RegisterOp_REGISTER_DROP, 9000, time.Second); r.State != pb.RegisterState_REG_GONE {
		t.Fatalf("drop answered %v", r)
	}
	waitRoute(t, other, key31.Modid, key31.Cmdid)

	// Registered again, then no keepalives: the agent drops it after its ttl (1 s).
	owner.registerTTL(pb.RegisterOp_REGISTER_NEW, 9000, time.Second)
	keepUntil(t, owner, other, time.Second, "served again", self)
	start := time.Now()
	waitRoute(t, other, key31.Modid, key31.Cmdid)
	t.Logf("gone %v after the last keepalive (ttl 1s)", time.Since(start).Round(time.Millisecond))
}

// TestRegisterDeniedByRouteService: lars-dns without -allow-register or a policy
// denies registrations: the process is answered REG_REFUSED with lars-dns's reason.
func TestRegisterDeniedByRouteService(t *testing.T) {
	dns := startRegisterDNS(t, false)
	c := dial(t, startAgent(t, agent.Config{RouteService: []string{dns}}).Addrs()[0])
	c.registerTTL(pb.RegisterOp_REGISTER_NEW, 9000, 0)
	var r *pb.RegisterReply
	eventually(t, patience, "refused", func() bool { // polled with KEEPs: a NEW would try again
		r = c.registerTTL(pb.RegisterOp_REGISTER_KEEP, 9000, 0)
		return r.State == pb.RegisterState_REG_REFUSED
	})
	if !strings.Contains(r.Message, "allow-register") {
		t.Fatalf("message %q does not say why", r.Message)
	}
}

// TestRegisterFailoverRouteService: two lars-dns on one store; the one the owner's
// agent is connected to stops; the agent fails over to the other and registers its
// instance again there, which keeps it in the route past its lease.
func TestRegisterFailoverRouteService(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lars.db")
	first, second := newRegisterDNS(t, path, true), newRegisterDNS(t, path, true)
	ctx, stopFirst := context.WithCancel(context.Background())
	firstDone := make(chan struct{})
	go func() { _ = first.Run(ctx); close(firstDone) }()
	t.Cleanup(func() { stopFirst(); <-firstDone })
	<-first.Ready()
	runService(t, second.Run, second.Ready())
	cfg := agent.Config{SweepInterval: 10 * time.Millisecond, Table: lb.Config{Settings: fastSettings()}}
	cfg.RouteService = []string{first.Addr().String(), second.Addr().String()}
	a := startAgent(t, cfg)
	owner := dial(t, a.Addrs()[0])
	cfg.RouteService = []string{second.Addr().String()}
	other := dial(t, startAgent(t, cfg).Addrs()[0])
	self := route.HostAt(host("127.0.0.1", 9000))

	owner.registerTTL(pb.RegisterOp_REGISTER_NEW, 9000, 2*time.Second)
	keepUntil(t, owner, other, 2*time.Second, "served by the other agent", self)
	stopFirst()
	<-firstDone
	eventually(t, patience, "re-registered with the second", func() bool {
		owner.registerTTL(pb.RegisterOp_REGISTER_KEEP, 9000, 2*time.Second)
		return hasMetrics(a, `lars_agent_route_service_connected{addr="`+second.Addr().String()+`"} 1`,
			`lars_agent_route_service_takes_registrations 1`)
	})
	// Kept alive for two ttls through the second lars-dns: still served.
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		if r := owner.registerTTL(pb.RegisterOp_REGISTER_KEEP, 9000, 2*time.Second); r.State == pb.RegisterState_REG_REFUSED ||
			r.State == pb.RegisterState_REG_REMOVED {
			t.Fatalf("after failover: %v %q", r.State, r.Message)
		}
		if got := other.getRoute(key31.Modid, key31.Cmdid); len(got) != 1 || got[0] != self {
			t.Fatalf("after failover the route is %v, want %v", got, self)
		}
		time.Sleep(100 * time.Millisecond) // the owner's keepalive period, not a wait for an event
	}
}

// keepUntil keeps key31's instance 127.0.0.1:9000 alive through owner (KEEPs of ttl)
// until other serves exactly want: a machine too busy to see it within the ttl does
// not let it expire meanwhile.
func keepUntil(t *testing.T, owner, other *client, ttl time.Duration, what string, want ...route.Host) {
	t.Helper()
	eventually(t, patience, what, func() bool {
		owner.registerTTL(pb.RegisterOp_REGISTER_KEEP, 9000, ttl)
		return slices.Equal(hostSet(other.getRoute(key31.Modid, key31.Cmdid)), hostSet(want))
	})
}
