package api

import (
	"math"
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
)

// Report tells the agent how a call to host h for key (modid, cmdid) went: retcode 0
// for success, anything else for failure, as the Lars API's report. Only h's address
// is sent: an IPv4 one in ip, as Lars's API sends it, an IPv6 one in ip6. Nothing comes
// back; the error only says whether the datagram could be sent (ErrAgentUnreachable
// when the agent's port refused an earlier datagram). It does not allocate in steady
// state.
func (c *Client) Report(modid, cmdid int32, h Host, retcode int32) error {
	return c.report(modid, cmdid, h, retcode, 0)
}

// ReportLatency is Report with the call's latency, which agents balancing with
// policy=ewma use to prefer fast hosts (ReportRequest.latency_us, an extension Lars's
// agents ignore). A latency under a microsecond is sent as one microsecond. It does
// not allocate in steady state.
func (c *Client) ReportLatency(modid, cmdid int32, h Host, retcode int32, latency time.Duration) error {
	us := uint32(min(max(latency.Microseconds(), 1), math.MaxUint32))
	return c.report(modid, cmdid, h, retcode, us)
}

// report sends a ReportRequest; latencyUS 0 leaves the field out.
func (c *Client) report(modid, cmdid int32, h Host, retcode int32, latencyUS uint32) error {
	if c.closed.Load() {
		return ErrClosed
	}
	p := PortIndex(modid, cmdid, len(c.conns))
	i, ok := c.tryAcquire(p) // borrow a free slot's buffers; its state stays 0
	if !ok {
		return c.reportUnpooled(p, modid, cmdid, h, retcode, latencyUS)
	}
	s := &c.slots[i]
	s.rep.Modid, s.rep.Cmdid, s.rep.Retcode, s.rep.LatencyUs = modid, cmdid, retcode, latencyUS
	codec.SetHostAddr(&s.repHost, &s.repIP6, h.Addr)
	var err error
	s.buf, err = codec.AppendFrame(s.buf[:0], codec.MsgReportRequest, &s.rep)
	if err == nil {
		err = c.send(p, s.buf)
	}
	c.release(p, i)
	return err
}

// reportUnpooled is report when every slot is taken: it allocates its message.
func (c *Client) reportUnpooled(p int, modid, cmdid int32, h Host, retcode int32, latencyUS uint32) error {
	m := &pb.ReportRequest{Modid: modid, Cmdid: cmdid, Retcode: retcode, LatencyUs: latencyUS,
		Host: &pb.HostInfo{}}
	codec.SetHostAddr(m.Host, new([16]byte), h.Addr)
	buf, err := codec.AppendFrame(nil, codec.MsgReportRequest, m)
	if err != nil {
		return err
	}
	return c.send(p, buf)
}
