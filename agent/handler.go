package agent

import (
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/lb"
	"github.com/valyala/bytebufferpool"
)

// handler turns one request datagram into at most one answer. Each serving goroutine
// owns one: its messages and buffers are reused for every datagram, so handling does
// not allocate in steady state. It is not safe for concurrent use.
type handler struct {
	table    *lb.Table
	stats    *workerStats
	tooLarge func(modid, cmdid int32, hosts int) // called when a route does not fit a datagram

	getHost   pb.GetHostRequest
	report    pb.ReportRequest
	reportHst pb.HostInfo
	routeReq  pb.GetRouteRequest

	hostResp  pb.GetHostResponse
	hostInfo  pb.HostInfo
	routeResp pb.GetRouteResponse
	hosts     []lb.Host     // get_route answer, from the table
	infos     []pb.HostInfo // backing store of routeResp.Host
	infoPtrs  []*pb.HostInfo
}

func newHandler(t *lb.Table, s *workerStats, tooLarge func(modid, cmdid int32, hosts int)) *handler {
	h := &handler{table: t, stats: s, tooLarge: tooLarge}
	h.growRoute(64)
	h.hosts = make([]lb.Host, 0, 64)
	return h
}

// handle processes the datagram req. An answer is encoded into slot[:0] when it fits
// there; a larger one (a big get_route) goes into a buffer from bytebufferpool, which
// is returned as big and must be given back with bytebufferpool.Put once sent. A nil
// answer means nothing is to be sent: a report, or a dropped datagram (counted).
func (h *handler) handle(req, slot []byte) (answer []byte, big *bytebufferpool.ByteBuffer) {
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
		return h.handleGetRoute(body, slot)
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
	host, rc := h.table.GetHost(m.Modid, m.Cmdid)
	resp := &h.hostResp
	resp.Seq, resp.Modid, resp.Cmdid, resp.Retcode, resp.Host = m.Seq, m.Modid, m.Cmdid, int32(rc), nil
	if rc == codec.RetSucc {
		h.hostInfo.Ip, h.hostInfo.Port = host.IP, host.Port
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
	h.reportHst.Reset()
	m.Host = &h.reportHst // decoded into in place: no allocation, no pool
	if err := m.UnmarshalVT(body); err != nil {
		h.stats.drop(DropBadBody)
		return
	}
	// latency_us is an extension (0 when the caller does not send it); the table uses
	// it only under policy=ewma.
	h.table.ReportLatency(m.Modid, m.Cmdid, lb.Host{IP: h.reportHst.Ip, Port: h.reportHst.Port}, m.Retcode,
		time.Duration(m.LatencyUs)*time.Microsecond)
}

func (h *handler) handleGetRoute(body, slot []byte) ([]byte, *bytebufferpool.ByteBuffer) {
	m := &h.routeReq
	m.Reset()
	if err := m.UnmarshalVT(body); err != nil {
		h.stats.drop(DropBadBody)
		return nil, nil
	}
	h.hosts = h.table.GetRoute(m.Modid, m.Cmdid, h.hosts[:0])
	if len(h.hosts) > len(h.infos) {
		h.growRoute(len(h.hosts))
	}
	resp := &h.routeResp
	resp.Modid, resp.Cmdid, resp.Host = m.Modid, m.Cmdid, h.infoPtrs[:len(h.hosts)]
	for i, host := range h.hosts {
		h.infos[i].Ip, h.infos[i].Port = host.IP, host.Port
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
	h.infoPtrs = make([]*pb.HostInfo, n)
	for i := range h.infos {
		h.infoPtrs[i] = &h.infos[i]
	}
}
