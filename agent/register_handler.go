package agent

import (
	"fmt"
	"net/netip"
	"net/url"
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// handleRegister answers a RegisterRequest (msgid 103) at once with a RegisterReply
// (msgid 104) of the registration's state. A source off loopback is dropped and
// counted unless Config.AllowRemoteRegister; one allowed may register only its own
// address. Unlike the other requests this path takes the registry's lock and may
// allocate (a new registration, a check's text).
func (h *handler) handleRegister(body, slot []byte) []byte {
	var src netip.Addr
	if h.src != nil && isRemote(h.src.AddrPort()) {
		if !h.remoteRegister {
			h.stats.drop(DropRemoteRegister)
			return nil
		}
		src = h.src.AddrPort().Addr().Unmap()
	}
	m := &h.regReq
	m.Reset()
	h.regHost.Reset()
	m.Host = &h.regHost
	if err := m.UnmarshalVT(body); err != nil {
		h.stats.drop(DropBadBody)
		return nil
	}
	reg := Registration{
		Key:  route.Key{Modid: m.Modid, Cmdid: m.Cmdid},
		Host: route.AddrPortFromWire(h.regHost.Ip, h.regHost.Port),
		TTL:  time.Duration(m.TtlMs) * time.Millisecond, Check: m.Check,
		CheckInterval: time.Duration(m.CheckIntervalMs) * time.Millisecond,
	}
	var a answer
	if p := h.regHost.Port; (p < 0 || p > 65535) && m.Op != pb.RegisterOp_REGISTER_DROP {
		h.reg.invalid.Add(1)
		a = answer{state: pb.RegisterState_REG_INVALID, message: fmt.Sprintf("port %d is not in 1..65535", p)}
	} else if msg := remoteRefusal(src, m.Op, reg); msg != "" {
		h.reg.refused[refusedRemoteAddress].Add(1)
		a = answer{state: pb.RegisterState_REG_REFUSED, message: msg}
	} else {
		a = h.reg.request(m.Op, reg, h.reg.clock())
	}
	resp := &h.regResp
	resp.Seq, resp.Modid, resp.Cmdid, resp.Host = m.Seq, m.Modid, m.Cmdid, &h.regReplyHost
	h.regReplyHost.Ip, h.regReplyHost.Port = h.regHost.Ip, h.regHost.Port
	resp.State, resp.Message, resp.TtlMs = a.state, truncateMessage(a.message), uint32(a.ttl/time.Millisecond)
	out, err := codec.AppendFrame(slot[:0], codec.MsgRegisterReply, resp)
	if err != nil || len(out) > cap(slot) { // cannot happen: a reply is at most about 600 bytes
		h.stats.drop(DropSendFailed)
		return nil
	}
	return out
}

// remoteRefusal returns why a registration from src, a source off loopback (invalid:
// on loopback), is refused, or "": such a source may register only its own address,
// and its HTTP check may go only to that address, so that it cannot make the agent
// put another host into the route or send requests elsewhere on its behalf.
func remoteRefusal(src netip.Addr, op pb.RegisterOp, reg Registration) string {
	if !src.IsValid() || op == pb.RegisterOp_REGISTER_DROP {
		return ""
	}
	if reg.Host.Addr() != src {
		return "a source off loopback may register only its own address"
	}
	if reg.Check != "" && reg.Check != "tcp" {
		u, err := url.Parse(reg.Check)
		if err != nil {
			return "" // answered invalid
		}
		if ip, err := netip.ParseAddr(u.Hostname()); err != nil || ip.Unmap() != src {
			return "a source off loopback may check only its own address (an http:// URL of its IP address)"
		}
	}
	return ""
}
