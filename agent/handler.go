package agent

import (
	"net/netip"
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
	"github.com/valyala/bytebufferpool"
)

// remoteAnswerFactor bounds the size of a get_route answer to a source off loopback,
// when those are allowed at all (Config.AllowRemoteGetRoute), to this many times the
// size of its request: a forged source address cannot turn the agent into an
// amplifier. 3 is QUIC's anti-amplification limit (RFC 9000, section 8).
const remoteAnswerFactor = 3

// handler turns one request datagram into at most one answer. Each serving goroutine
// owns one: its messages and buffers are reused for every datagram, so handling does
// not allocate in steady state. It is not safe for concurrent use.
type handler struct {
	table    *lb.Table
	stats    *workerStats
	tooLarge func(modid, cmdid int32, hosts int) // called when a route does not fit a datagram

	// Set by the agent after newHandler: the per-source limit of unknown keys (nil:
	// none) and whether get_route is answered to sources off loopback.
	limiter     *sourceLimiter
	remoteRoute bool
	// reg is the registration table (nil: msgid 103 is not served); remoteRegister
	// takes RegisterRequests from sources off loopback (Config.AllowRemoteRegister).
	reg            *registry
	remoteRegister bool
	gate           lb.MissGate       // h when limiter is set, else nil
	src            *batchio.SockAddr // the source of the datagram being handled; nil: loopback

	getHost   pb.GetHostRequest
	report    pb.ReportRequest
	reportHst pb.HostInfo
	routeReq  pb.GetRouteRequest
	regReq    pb.RegisterRequest
	regHost   pb.HostInfo

	hostResp     pb.GetHostResponse
	hostInfo     pb.HostInfo
	routeResp    pb.GetRouteResponse
	hostIP6      [16]byte      // backing store of hostInfo.Ip6
	hosts        []route.Host  // get_route answer, from the table
	infos        []pb.HostInfo // backing store of routeResp.Host
	infoIP6      [][16]byte    // backing store of infos[i].Ip6
	infoPtrs     []*pb.HostInfo
	regResp      pb.RegisterReply
	regReplyHost pb.HostInfo
}

func newHandler(t *lb.Table, s *workerStats, tooLarge func(modid, cmdid int32, hosts int)) *handler {
	h := &handler{table: t, stats: s, tooLarge: tooLarge}
	h.growRoute(64)
	h.hosts = make([]route.Host, 0, 64)
	return h
}

// setLimiter makes unknown keys pass l, per source, before they are created.
func (h *handler) setLimiter(l *sourceLimiter) {
	h.limiter, h.gate = l, nil
	if l != nil {
		h.gate = h
	}
}

// AdmitMiss is the handler's lb.MissGate: the source of the datagram being handled
// may create one more unknown key.
func (h *handler) AdmitMiss() bool {
	var ap netip.AddrPort
	if h.src != nil {
		ap = h.src.AddrPort()
	}
	return h.limiter.allow(ap)
}

// isRemote reports whether a datagram from ap comes from off loopback. A source with
// no address (a connected socket in tests) is local.
func isRemote(ap netip.AddrPort) bool {
	ip := ap.Addr()
	return ip.IsValid() && !ip.Unmap().IsLoopback()
}

// handle processes the datagram req from src (nil: a loopback source). An answer is
// encoded into slot[:0] when it fits there; a larger one (a big get_route) goes into a
// buffer from bytebufferpool, which is returned as big and must be given back with
// bytebufferpool.Put once sent. A nil answer means nothing is to be sent: a report, or
// a dropped datagram (counted). src is not retained.
func (h *handler) handle(req, slot []byte, src *batchio.SockAddr) (answer []byte, big *bytebufferpool.ByteBuffer) {
	h.src = src
	id, body, r := codec.ParseDatagram(req)
	if r != codec.ReasonOK {
		h.stats.drop(dropForFrame(r))
		return nil, nil
	}
	h.stats.request(id)
	switch id {
	case codec.MsgGetHostRequest:
		return h.handleGetHost(body, slot), nil
	case codec.MsgReportRequest:
		h.handleReport(body)
		return nil, nil
	case codec.MsgAPIGetRouteRequest:
		return h.handleGetRoute(body, slot, len(req))
	case codec.MsgRegisterRequest:
		if h.reg != nil {
			return h.handleRegister(body, slot), nil
		}
	}
	h.stats.drop(DropUnknownMsgID)
	return nil, nil
}

func (h *handler) handleGetHost(body, slot []byte) []byte {
	m := &h.getHost
	m.Reset()
	if err := m.UnmarshalVT(body); err != nil {
		h.stats.drop(DropBadBody)
		return nil
	}
	// A client without ACCEPT_ROUTE_EXT (Lars's C++ API) is never chosen an IPv6 host,
	// so its answers are Lars's frames (docs/PROTOCOL.md "Routes beyond Lars").
	ext := m.Accept&uint32(pb.Accept_ACCEPT_ROUTE_EXT) != 0
	host, rc := h.table.GetHostFrom(m.Modid, m.Cmdid, h.gate, ext)
	resp := &h.hostResp
	resp.Seq, resp.Modid, resp.Cmdid, resp.Retcode, resp.Host = m.Seq, m.Modid, m.Cmdid, int32(rc), nil
	if rc == codec.RetSucc {
		codec.SetHostAddr(&h.hostInfo, &h.hostIP6, host)
		resp.Host = &h.hostInfo
	}
	if rc >= 0 && int(rc) < numRetCodes {
		h.stats.answers[rc].Add(1)
	}
	out, err := codec.AppendFrame(slot[:0], codec.MsgGetHostResponse, resp)
	if err != nil { // cannot happen: a GetHostResponse is at most a few dozen bytes
		h.stats.drop(DropSendFailed)
		return nil
	}
	return out
}

func (h *handler) handleReport(body []byte) {
	m := &h.report
	m.Reset()
	h.reportHst.ResetVT() // keeps Ip6's buffer
	m.Host = &h.reportHst // decoded into in place: no allocation, no pool
	if err := m.UnmarshalVT(body); err != nil {
		h.stats.drop(DropBadBody)
		return
	}
	// A host in ip6 (an IPv6 host of a client with ACCEPT_ROUTE_EXT) is 16 bytes, and
	// ip is then 0; without ip6, ip.
	addr, ok := codec.HostAddr(&h.reportHst)
	if !ok {
		h.stats.drop(DropBadReportHost)
		return
	}
	// latency_us is an extension (0 when the caller does not send it); the table uses
	// it only under policy=ewma.
	h.table.ReportLatency(m.Modid, m.Cmdid, addr, m.Retcode, time.Duration(m.LatencyUs)*time.Microsecond)
}

// handleGetRoute answers a get_route request of reqLen bytes. One from off loopback is
// dropped unless remote get_route is allowed, and then answered at most
// remoteAnswerFactor times reqLen bytes: a larger route is answered empty. Both are
// counted.
func (h *handler) handleGetRoute(body, slot []byte, reqLen int) ([]byte, *bytebufferpool.ByteBuffer) {
	remote := h.src != nil && isRemote(h.src.AddrPort())
	if remote && !h.remoteRoute {
		h.stats.drop(DropRemoteGetRoute)
		return nil, nil
	}
	m := &h.routeReq
	m.Reset()
	if err := m.UnmarshalVT(body); err != nil {
		h.stats.drop(DropBadBody)
		return nil, nil
	}
	// Without ACCEPT_ROUTE_EXT: the IPv4 hosts only, without weight or zone (Lars's
	// frame); with it, every host with its weight and zone.
	ext := m.Accept&uint32(pb.Accept_ACCEPT_ROUTE_EXT) != 0
	h.hosts = h.table.GetRouteFrom(m.Modid, m.Cmdid, h.hosts[:0], h.gate, ext)
	if len(h.hosts) > len(h.infos) {
		h.growRoute(len(h.hosts))
	}
	resp := &h.routeResp
	resp.Modid, resp.Cmdid, resp.Host = m.Modid, m.Cmdid, h.infoPtrs[:len(h.hosts)]
	for i := range h.hosts {
		codec.SetHost(&h.infos[i], &h.infoIP6[i], h.hosts[i], ext)
	}
	size := codec.FrameSize(resp)
	if size > codec.MaxFrameSize {
		h.stats.drop(DropRouteTooLarge)
		if h.tooLarge != nil {
			h.tooLarge(m.Modid, m.Cmdid, len(h.hosts))
		}
		resp.Host = nil
		size = codec.FrameSize(resp)
	}
	if remote && size > remoteAnswerFactor*reqLen {
		h.stats.drop(DropRemoteRouteCapped)
		resp.Host = nil
		size = codec.FrameSize(resp)
	}
	h.stats.routeHosts.Add(uint64(len(resp.Host)))
	var big *bytebufferpool.ByteBuffer
	dst := slot[:0]
	if size > cap(slot) {
		big = bytebufferpool.Get()
		dst = big.B[:0]
	}
	out, err := codec.AppendFrame(dst, codec.MsgAPIGetRouteResponse, resp)
	if big != nil {
		big.B = out
	}
	if err != nil { // cannot happen: the size was checked above
		h.stats.drop(DropSendFailed)
		if big != nil {
			bytebufferpool.Put(big)
		}
		return nil, nil
	}
	return out, big
}

// growRoute makes room for an answer of n hosts. It allocates, but only when a route
// larger than any seen before is asked for.
func (h *handler) growRoute(n int) {
	h.infos = make([]pb.HostInfo, n)
	h.infoIP6 = make([][16]byte, n)
	h.infoPtrs = make([]*pb.HostInfo, n)
	for i := range h.infos {
		h.infoPtrs[i] = &h.infos[i]
	}
}
