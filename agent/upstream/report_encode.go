package upstream

import (
	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// maxHostsPerReport bounds the hosts of one ReportStatusRequest so that its body stays
// under codec.MaxBodySize whatever the values: a result is at most 35 bytes on the
// wire. A key with more hosts is reported in several messages, which the report
// service stores like one.
const maxHostsPerReport = 1024

// statusEncoder turns table statuses into ReportStatusRequest frames, reusing one
// message and its results. Not safe for concurrent use.
type statusEncoder struct {
	caller  int32
	msg     larspb.ReportStatusRequest
	results []*larspb.HostCallResult // grown on demand, reused
}

// appendStatus appends the frames for st, stamped ts, to dst. IPv6 hosts are left
// out: the report service keeps an IPv4 ip (docs/PROTOCOL.md "Routes beyond Lars"),
// and a status whose hosts are all IPv6 appends nothing.
func (e *statusEncoder) appendStatus(dst []byte, st *lb.Status, ts uint32) []byte {
	hosts := st.Hosts
	if len(hosts) == 0 {
		e.fill(st, 0, ts)
		dst, _ = codec.AppendFrame(dst, codec.MsgReportStatusRequest, &e.msg)
		return dst
	}
	for len(hosts) > 0 {
		n := 0
		for len(hosts) > 0 && n < maxHostsPerReport {
			h := &hosts[0]
			hosts = hosts[1:]
			ip, ok := route.WireIP(h.Host.Addr())
			if !ok {
				continue
			}
			if n == len(e.results) {
				e.results = append(e.results, &larspb.HostCallResult{})
			}
			r := e.results[n]
			r.Ip, r.Port, r.Succ, r.Err, r.Overload = ip, int32(h.Host.Port()), h.Succ, h.Err, h.Overload
			n++
		}
		if n == 0 {
			break
		}
		e.fill(st, n, ts)
		dst, _ = codec.AppendFrame(dst, codec.MsgReportStatusRequest, &e.msg) // under the limit by maxHostsPerReport
	}
	return dst
}

// fill sets the message's key, caller and stamp, and its first n results.
func (e *statusEncoder) fill(st *lb.Status, n int, ts uint32) {
	m := &e.msg
	m.Modid, m.Cmdid, m.Caller, m.Ts = st.Modid, st.Cmdid, e.caller, ts
	m.Results = e.results[:n]
}
