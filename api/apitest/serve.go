package apitest

import (
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// server is one socket's serving loop state, allocated once.
type server struct {
	a      *Agent
	i      int // socket index
	in     []byte
	out    []byte
	ghReq  pb.GetHostRequest
	ghResp pb.GetHostResponse
	host   pb.HostInfo
	ip6    [16]byte // backing store of host.Ip6
	v4     []api.Host
	rep    pb.ReportRequest
	repH   pb.HostInfo
	grReq  pb.GetRouteRequest
	grResp pb.GetRouteResponse
	hosts  []pb.HostInfo
	ip6s   [][16]byte // backing store of hosts[i].Ip6
	regReq pb.RegisterRequest
	regRep pb.RegisterReply
}

// serve answers the requests arriving on socket i until Close.
func (a *Agent) serve(i int) {
	defer a.wg.Done()
	s := &server{a: a, i: i, in: make([]byte, codec.MaxFrameSize+1), out: make([]byte, 0, 256)}
	conn := a.conns[i]
	for {
		n, from, err := conn.ReadFromUDPAddrPort(s.in)
		if err != nil {
			if errClosed(err) {
				return
			}
			continue
		}
		out, delay, ok := s.handle(s.in[:n])
		switch {
		case !ok:
		case delay == holdDelay:
			a.keep(conn, out, from)
		case delay > 0:
			b := append([]byte(nil), out...)
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				time.Sleep(delay)
				conn.WriteToUDPAddrPort(b, from)
			}()
		default:
			conn.WriteToUDPAddrPort(out, from)
		}
	}
}

// handle records one datagram and returns the answer to send, if any, and its delay.
func (s *server) handle(b []byte) (out []byte, delay time.Duration, ok bool) {
	id, body, r := codec.ParseDatagram(b)
	if r != codec.ReasonOK {
		s.a.bad.Add(1)
		return nil, 0, false
	}
	switch id {
	case codec.MsgGetHostRequest:
		return s.getHost(body)
	case codec.MsgReportRequest:
		s.report(body)
		return nil, 0, false
	case codec.MsgAPIGetRouteRequest:
		return s.getRoute(body)
	case codec.MsgRegisterRequest:
		return s.register(body)
	}
	s.a.bad.Add(1)
	return nil, 0, false
}

func (s *server) port() uint16 { return s.a.ports[s.i] }

func (s *server) getHost(body []byte) ([]byte, time.Duration, bool) {
	q := &s.ghReq
	q.ResetVT()
	if q.UnmarshalVT(body) != nil {
		s.a.bad.Add(1)
		return nil, 0, false
	}
	resp := &s.ghResp
	resp.Reset()
	resp.Seq, resp.Modid, resp.Cmdid = q.Seq, q.Modid, q.Cmdid

	a := s.a
	a.mu.Lock()
	drop, delay := a.record(Request{Port: s.port(), MsgID: codec.MsgGetHostRequest,
		Seq: q.Seq, Modid: q.Modid, Cmdid: q.Cmdid, Accept: q.Accept})
	ks := a.key(q.Modid, q.Cmdid)
	hosts := ks.hosts
	if !ext(q.Accept) && !route.AllIPv4(hosts) {
		s.v4 = s.v4[:0]
		for _, h := range hosts {
			if h.Is4() {
				s.v4 = append(s.v4, h)
			}
		}
		hosts = s.v4
	}
	n := ks.calls
	ks.calls++
	code := ks.forced
	if code == 0 && a.retcodeFn != nil {
		code = a.retcodeFn(q.Modid, q.Cmdid, n)
	}
	switch {
	case code != 0:
		resp.Retcode = code
	case len(hosts) == 0:
		resp.Retcode = int32(codec.RetNoExist)
	default:
		codec.SetHostAddr(&s.host, &s.ip6, hosts[n%len(hosts)].Addr)
		resp.Host = &s.host
	}
	a.mu.Unlock()
	if drop {
		return nil, 0, false
	}
	var err error
	s.out, err = codec.AppendFrame(s.out[:0], codec.MsgGetHostResponse, resp)
	return s.out, delay, err == nil
}

func (s *server) report(body []byte) {
	m := &s.rep
	m.Reset()
	s.repH.ResetVT()
	m.Host = &s.repH
	if m.UnmarshalVT(body) != nil {
		s.a.bad.Add(1)
		return
	}
	s.a.mu.Lock()
	s.a.record(Request{Port: s.port(), MsgID: codec.MsgReportRequest, Modid: m.Modid,
		Cmdid: m.Cmdid, Host: reportHost(&s.repH), Retcode: m.Retcode, LatencyUS: m.LatencyUs})
	s.a.mu.Unlock()
}

func (s *server) getRoute(body []byte) ([]byte, time.Duration, bool) {
	q := &s.grReq
	q.ResetVT()
	if q.UnmarshalVT(body) != nil {
		s.a.bad.Add(1)
		return nil, 0, false
	}
	resp := &s.grResp
	resp.Reset()
	resp.Modid, resp.Cmdid = q.Modid, q.Cmdid
	a := s.a
	a.mu.Lock()
	drop, delay := a.record(Request{Port: s.port(), MsgID: codec.MsgAPIGetRouteRequest,
		Modid: q.Modid, Cmdid: q.Cmdid, Accept: q.Accept})
	s.hosts = s.hosts[:0]
	for _, h := range a.key(q.Modid, q.Cmdid).hosts {
		if !ext(q.Accept) && !h.Is4() {
			continue
		}
		s.hosts = append(s.hosts, pb.HostInfo{})
		if len(s.ip6s) < len(s.hosts) {
			s.ip6s = append(s.ip6s, [16]byte{})
		}
		codec.SetHost(&s.hosts[len(s.hosts)-1], &s.ip6s[len(s.hosts)-1], h, ext(q.Accept))
	}
	a.mu.Unlock()
	if drop {
		return nil, 0, false
	}
	for i := range s.hosts {
		resp.Host = append(resp.Host, &s.hosts[i])
	}
	var err error
	s.out, err = codec.AppendFrame(s.out[:0], codec.MsgAPIGetRouteResponse, resp)
	return s.out, delay, err == nil
}

// ext reports whether a request's accept bits say the client reads the route extension.
func ext(accept uint32) bool { return accept&uint32(pb.Accept_ACCEPT_ROUTE_EXT) != 0 }

// reportHost returns the host of a report: ip6 when it has 16 bytes, else ip.
func reportHost(h *pb.HostInfo) api.Host {
	a, _ := codec.HostAddr(h)
	return api.Host{Addr: a}
}
