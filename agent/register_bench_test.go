package agent

import (
	"context"
	"testing"

	"github.com/larsgo/lars/agent/upstream"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// BenchmarkHandlerRegisterKeep is the cost of a keepalive of a registration the
// agent keeps, decoded, applied and answered: the register path's steady state.
func BenchmarkHandlerRegisterKeep(b *testing.B) {
	r := newRegistry(DefaultMaxRegistrations, fakeclock.New().Now, &fakeSender{}, regQuiet)
	var st workerStats
	h := newHandler(lb.NewTable(lb.Config{Static: true}), &st, nil)
	h.reg = r
	frame, _ := codec.AppendFrame(nil, codec.MsgRegisterRequest, &pb.RegisterRequest{Modid: rk.Modid, Cmdid: rk.Cmdid,
		Host: hostInfoOf(rh), TtlMs: 10000})
	slot := make([]byte, 2048)
	b.ReportAllocs()
	for b.Loop() {
		if ans, _ := h.handle(frame, slot, nil); ans == nil {
			b.Fatal("no answer")
		}
	}
}

// BenchmarkRegistryStep10k is one step of a full table (10,000 registrations, none
// due): the loop's cost every regTick.
func BenchmarkRegistryStep10k(b *testing.B) {
	clk := fakeclock.New()
	r := newRegistry(DefaultMaxRegistrations, clk.Now, &fakeSender{}, regQuiet)
	r.LeaseLink("dns:7778", upstream.LinkRegisters)
	for i := range DefaultMaxRegistrations {
		r.request(pb.RegisterOp_REGISTER_KEEP, Registration{Key: rk, Host: route.AddrPortFromWire(wireIP(rh)+int32(i/1000), int32(1000+i%1000))}, clk.Now())
	}
	r.step(context.Background(), clk.Now()) // every lease sent: none due for ttl/3
	b.ReportAllocs()
	for b.Loop() {
		r.step(context.Background(), clk.Now())
	}
}
