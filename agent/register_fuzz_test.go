package agent

import (
	"testing"

	"github.com/larsgo/lars/agent/upstream"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/lb"
)

// FuzzHandleRegister: whatever the body of a msgid 103 datagram, the handler answers
// with a RegisterReply that fits the slot and echoes the request, or drops it counted;
// the table never holds more than its maximum or an invalid registration.
func FuzzHandleRegister(f *testing.F) {
	for _, m := range []*pb.RegisterRequest{
		{Seq: 1, Modid: 1, Cmdid: 2, Host: &pb.HostInfo{Ip: 10<<24 | 1, Port: 80}},
		{Modid: 1, Cmdid: 2, Host: &pb.HostInfo{Ip: 10<<24 | 1, Port: 80}, Op: pb.RegisterOp_REGISTER_NEW, TtlMs: 1000, Check: "tcp", CheckIntervalMs: 100},
		{Modid: 1, Cmdid: 2, Host: &pb.HostInfo{Ip: 10<<24 | 1, Port: 80}, Check: "http://10.0.0.1:80/x?y#z"},
		{Modid: 1, Cmdid: 2, Host: &pb.HostInfo{Ip: 10<<24 | 1, Port: 80}, Op: pb.RegisterOp_REGISTER_DROP},
		{Modid: 1, Cmdid: 2, Host: &pb.HostInfo{Ip: 10<<24 | 1, Port: 80}, Op: 7},
		{Modid: 1, Cmdid: 2},
	} {
		b, _ := m.MarshalVT()
		f.Add(b)
	}
	f.Add([]byte{0x0a, 0xff})
	f.Add([]byte{})
	clk := fakeclock.New()
	r := newRegistry(8, clk.Now, &fakeSender{}, regQuiet)
	r.LeaseLink("dns:7778", upstream.LinkRegisters)
	var st workerStats
	h := newHandler(lb.NewTable(lb.Config{Static: true}), &st, nil)
	h.reg = r
	slot := make([]byte, batchio.DefaultSlotSize)
	f.Fuzz(func(t *testing.T, body []byte) {
		frame := append(codec.AppendHeader(nil, codec.MsgRegisterRequest, len(body)), body...)
		ans, big := h.handle(frame, slot, nil)
		if big != nil {
			t.Fatal("pooled answer")
		}
		var req pb.RegisterRequest
		if req.UnmarshalVT(body) != nil {
			if ans != nil {
				t.Fatalf("a body that does not parse answered %x", ans)
			}
			return
		}
		id, rb, reason := codec.ParseDatagram(ans)
		if reason != codec.ReasonOK || id != codec.MsgRegisterReply || len(ans) > len(slot) {
			t.Fatalf("answer %x", ans)
		}
		var rep pb.RegisterReply
		if err := rep.UnmarshalVT(rb); err != nil {
			t.Fatal(err)
		}
		if rep.Seq != req.Seq || rep.Modid != req.Modid || rep.Cmdid != req.Cmdid ||
			rep.Host.GetIp() != req.Host.GetIp() || rep.Host.GetPort() != req.Host.GetPort() {
			t.Fatalf("reply %v does not echo %v", &rep, &req)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.entries) > r.max {
			t.Fatalf("%d registrations, max %d", len(r.entries), r.max)
		}
		for _, e := range r.entries {
			if _, err := e.Registration.normalize(); err != nil {
				t.Fatalf("kept an invalid registration %+v: %v", e.Registration, err)
			}
		}
	})
}
