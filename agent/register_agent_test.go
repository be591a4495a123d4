package agent_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// registerService is a route service that takes registrations: it answers the Hello
// with FEATURE_REGISTER, every pull with an empty route, and every Lease entry with
// LEASE_OK, recording the entries.
type registerService struct {
	ln       net.Listener
	features uint32

	mu      sync.Mutex
	entries []*pb.LeaseEntry
	wg      sync.WaitGroup
}

func newRegisterService(t *testing.T, features uint32) *registerService {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &registerService{ln: ln, features: features}
	var conns []net.Conn
	var connMu sync.Mutex
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			connMu.Lock()
			conns = append(conns, c)
			connMu.Unlock()
			s.wg.Add(1)
			go s.serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		connMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connMu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *registerService) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	sr := codec.NewStreamReader(c, 0)
	for {
		id, body, err := sr.Next()
		if err != nil {
			return
		}
		var out []byte
		switch id {
		case codec.MsgHello:
			out, _ = codec.AppendFrame(nil, codec.MsgHelloReply, &pb.HelloReply{Features: s.features})
		case codec.MsgGetRouteRequest:
			var req pb.GetRouteRequest
			_ = req.UnmarshalVT(body)
			out, _ = codec.AppendFrame(nil, codec.MsgGetRouteResponse, &pb.GetRouteResponse{Modid: req.Modid, Cmdid: req.Cmdid})
		case codec.MsgLease:
			var l pb.Lease
			if l.UnmarshalVT(body) != nil {
				return
			}
			var reply pb.LeaseReply
			s.mu.Lock()
			for _, e := range l.Entries {
				s.entries = append(s.entries, e)
				reply.Results = append(reply.Results, &pb.LeaseResult{Modid: e.Modid, Cmdid: e.Cmdid, Host: e.Host, Op: e.Op})
			}
			s.mu.Unlock()
			out, _ = codec.AppendFrame(nil, codec.MsgLeaseReply, &reply)
		}
		if out != nil {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}
}

// has reports whether an entry of op for port arrived.
func (s *registerService) has(op pb.LeaseOp, port int32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		if e.Op == op && e.Host.GetPort() == port {
			return true
		}
	}
	return false
}

func (c *client) register(op pb.RegisterOp, port int32, check string) *pb.RegisterReply {
	c.t.Helper()
	id, body := c.roundTrip(frameOf(c.t, codec.MsgRegisterRequest, &pb.RegisterRequest{Seq: 7, Modid: 31, Cmdid: 1,
		Host: &pb.HostInfo{Ip: ip("127.0.0.1"), Port: port}, Op: op, Check: check}))
	if id != codec.MsgRegisterReply {
		c.t.Fatalf("answer msgid %d, want 104", id)
	}
	var m pb.RegisterReply
	if err := m.UnmarshalVT(body); err != nil {
		c.t.Fatal(err)
	}
	return &m
}

// TestRegisterThroughAgent: a process registers through the agent's UDP port, is
// answered pending at once, then active once lars-dns took the lease; the metrics and
// /registrations show it; deregistering sends LEASE_DROP.
func TestRegisterThroughAgent(t *testing.T) {
	dns := newRegisterService(t, uint32(pb.Feature_FEATURE_REGISTER|pb.Feature_FEATURE_UNSUBSCRIBE))
	a := startAgent(t, agent.Config{RouteService: []string{dns.ln.Addr().String()}})
	c := dial(t, a.Addrs()[0])
	if r := c.register(pb.RegisterOp_REGISTER_NEW, 9000, ""); r.State != pb.RegisterState_REG_PENDING || r.TtlMs != 10000 || r.Seq != 7 {
		t.Fatalf("first answer %v, want pending with the default ttl", r)
	}
	eventually(t, patience, "active", func() bool {
		return c.register(pb.RegisterOp_REGISTER_KEEP, 9000, "").State == pb.RegisterState_REG_ACTIVE
	})
	if !dns.has(pb.LeaseOp_LEASE_NEW, 9000) {
		t.Fatal("lars-dns got no LEASE_NEW")
	}
	if !hasMetrics(a, `lars_agent_registrations{state="active"} 1`, `lars_agent_lease_frames_sent_total 1`,
		`lars_agent_lease_results_total{status="ok"} 1`, `lars_agent_register_requests_total{op="new"} 1`,
		`lars_agent_route_service_takes_registrations 1`, `lars_agent_requests_total{msgid="0",type="unknown"} 0`) {
		t.Fatal("metrics do not show the registration")
	}
	var m bytes.Buffer
	a.WriteMetrics(&m)
	if !regexp.MustCompile(`lars_agent_requests_total\{msgid="103",type="register_request"\} [1-9]`).Match(m.Bytes()) {
		t.Fatalf("requests_total does not count the RegisterRequests:\n%s", m.String())
	}
	rec := httptest.NewRecorder()
	a.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/registrations", nil))
	var list []agent.RegistrationInfo
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatalf("/registrations: %v: %s", err, rec.Body)
	}
	if len(list) != 1 || list[0].Addr != "127.0.0.1:9000" || list[0].State != "active" || list[0].Source != "client" ||
		list[0].TTL != 10 || list[0].ExpiresIn <= 0 {
		t.Fatalf("/registrations %+v", list)
	}
	if r := c.register(pb.RegisterOp_REGISTER_DROP, 9000, ""); r.State != pb.RegisterState_REG_GONE {
		t.Fatalf("drop answered %v", r)
	}
	eventually(t, patience, "LEASE_DROP at lars-dns", func() bool { return dns.has(pb.LeaseOp_LEASE_DROP, 9000) })
}

// TestRegisterAgainstServiceWithoutFeature: a route service of ours that does not
// take registrations: refused with its address named, counted, and get_host still
// served.
func TestRegisterAgainstServiceWithoutFeature(t *testing.T) {
	dns := newRegisterService(t, uint32(pb.Feature_FEATURE_UNSUBSCRIBE))
	a := startAgent(t, agent.Config{RouteService: []string{dns.ln.Addr().String()}})
	c := dial(t, a.Addrs()[0])
	var r *pb.RegisterReply
	eventually(t, patience, "refused", func() bool {
		r = c.register(pb.RegisterOp_REGISTER_NEW, 9000, "")
		return r.State == pb.RegisterState_REG_REFUSED
	})
	if want := "the route service " + dns.ln.Addr().String() + " does not take registrations"; r.Message != want {
		t.Fatalf("message %q, want %q", r.Message, want)
	}
	if hasMetrics(a, `lars_agent_registrations_refused_total{cause="unsupported"} 0`) {
		t.Fatal("refusal not counted")
	}
	if m := c.getHost(1, 31, 1); m.Retcode == 0 && m.Host == nil {
		t.Fatalf("get_host answer %v", m)
	}
	if dns.has(pb.LeaseOp_LEASE_NEW, 9000) || dns.has(pb.LeaseOp_LEASE_KEEP, 9000) {
		t.Fatal("a Lease frame reached a service without FEATURE_REGISTER")
	}
}

// TestRegisterINIThroughAgent: Config.Registrations (the INI's [register]) are
// registered at start, never expire, and ReloadRegistrations drops a line removed.
func TestRegisterINIThroughAgent(t *testing.T) {
	dns := newRegisterService(t, uint32(pb.Feature_FEATURE_REGISTER))
	regs := []agent.Registration{{Key: key31, Host: host("127.0.0.1", 9100)}, {Key: key31, Host: host("127.0.0.1", 9101)}}
	a := startAgent(t, agent.Config{RouteService: []string{dns.ln.Addr().String()}, Registrations: regs})
	eventually(t, patience, "both registered", func() bool {
		return dns.has(pb.LeaseOp_LEASE_NEW, 9100) && dns.has(pb.LeaseOp_LEASE_NEW, 9101)
	})
	if err := a.ReloadRegistrations(regs[:1]); err != nil {
		t.Fatal(err)
	}
	eventually(t, patience, "the removed line dropped", func() bool { return dns.has(pb.LeaseOp_LEASE_DROP, 9101) })
	if l := a.Registrations(); len(l) != 1 || l[0].Source != "ini" {
		t.Fatalf("registrations %+v", l)
	}
	if _, err := agent.New(agent.Config{Registrations: []agent.Registration{{Key: key31, Host: host("127.0.0.1", 0)}}}); err == nil {
		t.Fatal("an invalid registration taken at start")
	}
}

var key31 = route.Key{Modid: 31, Cmdid: 1}

func host(addr string, port int32) netip.AddrPort { return route.AddrPortFromWire(ip(addr), port) }

// TestRegisterAgainstLars: Lars's lars_dns (a route service that never answers the
// Hello: larstest's) takes no registrations: refused with its address named, counted,
// while get_host is served from it as before.
func TestRegisterAgainstLars(t *testing.T) {
	dns := larstest.NewRouteService(t)
	dns.SetRoute(1, 1, h1)
	a := startAgent(t, agent.Config{RouteService: []string{dns.Addr()}, SweepInterval: 10 * time.Millisecond,
		Table: lb.Config{Settings: fastSettings()}})
	c := dial(t, a.Addrs()[0])
	waitRoute(t, c, 1, 1, h1) // answered without a HelloReply: the peer is Lars's
	var r *pb.RegisterReply
	eventually(t, patience, "refused", func() bool {
		r = c.register(pb.RegisterOp_REGISTER_KEEP, 9000, "")
		return r.State == pb.RegisterState_REG_REFUSED
	})
	if want := "the route service " + dns.Addr() + " does not take registrations"; r.Message != want {
		t.Fatalf("message %q, want %q", r.Message, want)
	}
	if !hasMetrics(a, `lars_agent_route_service_peer{kind="lars"} 1`, `lars_agent_registrations{state="refused"} 1`,
		`lars_agent_lease_frames_sent_total 0`) {
		t.Fatal("metrics do not show the refusal")
	}
}

// TestRegisterCheckStopsWithAgent: an agent running HTTP checks leaves no goroutine
// behind once shut down (the checks' kept-alive connections are closed).
func TestRegisterCheckStopsWithAgent(t *testing.T) {
	larstest.CheckGoroutines(t, patience)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	dns := newRegisterService(t, uint32(pb.Feature_FEATURE_REGISTER))
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	a, err := agent.New(agent.Config{Ports: []int{0}, SocketsPerPort: 1, Logger: quietLogger(),
		RouteService:  []string{dns.ln.Addr().String()},
		Registrations: []agent.Registration{{Key: key31, Host: host("127.0.0.1", int32(port)), Check: srv.URL + "/health"}}})
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	eventually(t, patience, "registered after its check passed", func() bool { return dns.has(pb.LeaseOp_LEASE_NEW, int32(port)) })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRegisterINIWaitsForUnreachableService: the INI's registrations of an agent whose
// route service cannot be reached yet wait pending, not refused as if the agent
// served static routes.
func TestRegisterINIWaitsForUnreachableService(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := ln.Addr().String()
	ln.Close() // nobody listens there now
	a := startAgent(t, agent.Config{RouteService: []string{unreachable},
		Registrations: []agent.Registration{{Key: key31, Host: host("127.0.0.1", 9102)}}})
	l := a.Registrations()
	if len(l) != 1 || l[0].State != "pending" || l[0].Message != "" {
		t.Fatalf("INI registration with the route service unreachable: %+v, want pending", l)
	}
}
