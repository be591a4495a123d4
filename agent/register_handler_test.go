package agent

import (
	"testing"

	"github.com/larsgo/lars/agent/upstream"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/lb"
)

// regHandler returns a handler serving registrations into the fixture's table.
func regHandler(f *regFixture) (*handler, *workerStats) {
	var st workerStats
	h := newHandler(lb.NewTable(lb.Config{Static: true}), &st, nil)
	h.reg = f.r
	return h, &st
}

// registerRound sends one RegisterRequest to h from src and decodes the reply; nil if
// none.
func registerRound(t *testing.T, h *handler, src *batchio.SockAddr, req *pb.RegisterRequest) *pb.RegisterReply {
	t.Helper()
	frame, err := codec.AppendFrame(nil, codec.MsgRegisterRequest, req)
	if err != nil {
		t.Fatal(err)
	}
	ans, big := h.handle(frame, make([]byte, batchio.DefaultSlotSize), src)
	if big != nil {
		t.Fatal("a register reply in a pooled buffer")
	}
	if ans == nil {
		return nil
	}
	id, body, r := codec.ParseDatagram(ans)
	if r != codec.ReasonOK || id != codec.MsgRegisterReply {
		t.Fatalf("answer %x: msgid %d, %v", ans, id, r)
	}
	var rep pb.RegisterReply
	if err := rep.UnmarshalVT(body); err != nil {
		t.Fatal(err)
	}
	return &rep
}

// TestHandlerRegister: msgid 103 is answered at once with msgid 104, the request's
// seq, key and host echoed with the registration's state and ttl; invalid requests
// are answered REG_INVALID; a body that does not parse is dropped and counted.
func TestHandlerRegister(t *testing.T) {
	f := newRegFixture(t, 10)
	h, st := regHandler(f)
	host := hostInfoOf(rh)
	rep := registerRound(t, h, nil, &pb.RegisterRequest{Seq: 42, Modid: rk.Modid, Cmdid: rk.Cmdid, Host: host,
		Op: pb.RegisterOp_REGISTER_NEW, TtlMs: 3000})
	if rep == nil || rep.Seq != 42 || rep.Modid != rk.Modid || rep.Cmdid != rk.Cmdid || rep.Host.GetIp() != wireIP(rh) ||
		rep.Host.GetPort() != int32(rh.Port()) || rep.State != pb.RegisterState_REG_PENDING || rep.TtlMs != 3000 {
		t.Fatalf("reply %v", rep)
	}
	f.r.LeaseLink("dns:7778", upstream.LinkRegisters)
	f.step()
	f.r.LeaseResults(ok(rh, pb.LeaseOp_LEASE_NEW, pb.LeaseStatus_LEASE_OK, ""))
	rep = registerRound(t, h, nil, &pb.RegisterRequest{Seq: 43, Modid: rk.Modid, Cmdid: rk.Cmdid, Host: host, TtlMs: 3000})
	if rep.State != pb.RegisterState_REG_ACTIVE || rep.Seq != 43 {
		t.Fatalf("keepalive reply %v, want active", rep)
	}
	rep = registerRound(t, h, nil, &pb.RegisterRequest{Modid: rk.Modid, Cmdid: rk.Cmdid, Host: &pb.HostInfo{Ip: wireIP(rh)},
		Op: pb.RegisterOp_REGISTER_NEW})
	if rep.State != pb.RegisterState_REG_INVALID || rep.Message != "port 0 is not in 1..65535" {
		t.Fatalf("port 0: reply %v", rep)
	}
	rep = registerRound(t, h, nil, &pb.RegisterRequest{Modid: rk.Modid, Cmdid: rk.Cmdid, Host: host, Check: "ftp://x/"})
	if rep.State != pb.RegisterState_REG_INVALID {
		t.Fatalf("bad check: reply %v", rep)
	}
	rep = registerRound(t, h, nil, &pb.RegisterRequest{Modid: rk.Modid, Cmdid: rk.Cmdid, Host: host, Op: pb.RegisterOp_REGISTER_DROP})
	if rep.State != pb.RegisterState_REG_GONE {
		t.Fatalf("drop: reply %v", rep)
	}
	bad := codec.AppendHeader(nil, codec.MsgRegisterRequest, 2)
	bad = append(bad, 0x0a, 0xff) // field 1 as bytes, length beyond the body
	if ans, _ := h.handle(bad, make([]byte, 2048), nil); ans != nil || st.drops[DropBadBody].Load() != 1 {
		t.Fatalf("bad body answered %x, %d counted", ans, st.drops[DropBadBody].Load())
	}
	if n := f.r.requests[pb.RegisterOp_REGISTER_KEEP].Load(); n != 2 {
		t.Fatalf("%d keeps counted, want 2", n)
	}
}

// TestHandlerRegisterRemote: a RegisterRequest from off loopback is dropped and
// counted; with remote registration allowed, a source may register its own address
// only.
func TestHandlerRegisterRemote(t *testing.T) {
	f := newRegFixture(t, 10)
	h, st := regHandler(f)
	req := &pb.RegisterRequest{Modid: rk.Modid, Cmdid: rk.Cmdid, Host: hostInfoOf(rh)}
	if rep := registerRound(t, h, sockAddr("10.9.9.9:5000"), req); rep != nil || st.drops[DropRemoteRegister].Load() != 1 {
		t.Fatalf("remote answered %v, %d dropped", rep, st.drops[DropRemoteRegister].Load())
	}
	if rep := registerRound(t, h, sockAddr("127.0.0.1:5000"), req); rep == nil || rep.State != pb.RegisterState_REG_PENDING {
		t.Fatalf("loopback answered %v", rep)
	}
	h.remoteRegister = true
	if rep := registerRound(t, h, sockAddr("10.9.9.9:5000"), req); rep == nil || rep.State != pb.RegisterState_REG_REFUSED {
		t.Fatalf("another address from a remote source answered %v, want refused", rep)
	}
	if f.r.refused[refusedRemoteAddress].Load() != 1 {
		t.Fatal("not counted")
	}
	own := rh.Addr().String()
	if rep := registerRound(t, h, sockAddr(own+":5000"), req); rep == nil || rep.State != pb.RegisterState_REG_PENDING {
		t.Fatalf("its own address from a remote source answered %v, want pending", rep)
	}
	for check, want := range map[string]pb.RegisterState{
		"tcp":                                pb.RegisterState_REG_PENDING,
		"http://" + own + ":9000/health":     pb.RegisterState_REG_PENDING,
		"http://169.254.169.254/latest/meta": pb.RegisterState_REG_REFUSED,
		"http://localhost:9000/":             pb.RegisterState_REG_REFUSED,
	} {
		req.Check = check
		if rep := registerRound(t, h, sockAddr(own+":5000"), req); rep == nil || rep.State != want {
			t.Errorf("remote check %q answered %v, want %v", check, rep, want)
		}
	}
}

// TestHandlerRegisterLongMessage: a long message from the route service is cut so
// that the reply fits its slot.
func TestHandlerRegisterLongMessage(t *testing.T) {
	f := newRegFixture(t, 10)
	h, _ := regHandler(f)
	host := hostInfoOf(rh)
	registerRound(t, h, nil, &pb.RegisterRequest{Modid: rk.Modid, Cmdid: rk.Cmdid, Host: host})
	f.r.LeaseLink("dns:7778", upstream.LinkRegisters)
	f.step()
	long := make([]byte, 5000)
	for i := range long {
		long[i] = "aé"[i%3] // a and é's two bytes: cut on a rune boundary
	}
	f.r.LeaseResults(ok(rh, pb.LeaseOp_LEASE_KEEP, pb.LeaseStatus_LEASE_DENIED, string(long)))
	rep := registerRound(t, h, nil, &pb.RegisterRequest{Modid: rk.Modid, Cmdid: rk.Cmdid, Host: host})
	if rep == nil || rep.State != pb.RegisterState_REG_REFUSED || len(rep.Message) > maxMessage || len(rep.Message) < maxMessage-3 {
		t.Fatalf("reply %v", rep)
	}
}
