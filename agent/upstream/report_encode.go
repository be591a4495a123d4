package upstream

import (
	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/lb"
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

// appendStatus appends the frames for st, stamped ts, to dst.
func (e *statusEncoder) appendStatus(dst []byte, st *lb.Status, ts uint32) []byte {
	hosts := st.Hosts
	for {
		n := min(len(hosts), maxHostsPerReport)
		e.fill(st, hosts[:n], ts)
		dst, _ = codec.AppendFrame(dst, codec.MsgReportStatusRequest, &e.msg) // under the limit by maxHostsPerReport
		hosts = hosts[n:]
		if len(hosts) == 0 {
			return dst
		}
	}
}

func (e *statusEncoder) fill(st *lb.Status, hosts []lb.HostStatus, ts uint32) {
	for len(e.results) < len(hosts) {
		e.results = append(e.results, &larspb.HostCallResult{})
	}
	for i := range hosts {
		h, r := &hosts[i], e.results[i]
		r.Ip, r.Port, r.Succ, r.Err, r.Overload = h.Host.IP, h.Host.Port, h.Succ, h.Err, h.Overload
	}
	m := &e.msg
	m.Modid, m.Cmdid, m.Caller, m.Ts = st.Modid, st.Cmdid, e.caller, ts
	m.Results = e.results[:len(hosts)]
}
