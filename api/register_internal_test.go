package api

import (
	"testing"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
)

// replyFrame returns the datagram of a RegisterReply.
func replyFrame(t testing.TB, m *pb.RegisterReply) []byte {
	b, err := codec.AppendFrame(nil, codec.MsgRegisterReply, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRegReply(t *testing.T) {
	ok := &pb.RegisterReply{Seq: 7, Modid: 1, Cmdid: 2, Host: &pb.HostInfo{Ip: 5, Port: 80},
		State: pb.RegisterState_REG_REFUSED, Message: "no", TtlMs: 3000}
	a, good := parseRegReply(replyFrame(t, ok), 1, 2, 5, 80)
	if !good || a.seq != 7 || a.state != RegRefused || a.message != "no" || a.ttl.Milliseconds() != 3000 {
		t.Fatalf("parsed %+v, %v", a, good)
	}
	for name, m := range map[string]*pb.RegisterReply{
		"other modid": {Seq: 7, Modid: 9, Cmdid: 2, Host: &pb.HostInfo{Ip: 5, Port: 80}},
		"other cmdid": {Seq: 7, Modid: 1, Cmdid: 9, Host: &pb.HostInfo{Ip: 5, Port: 80}},
		"other ip":    {Seq: 7, Modid: 1, Cmdid: 2, Host: &pb.HostInfo{Ip: 6, Port: 80}},
		"other port":  {Seq: 7, Modid: 1, Cmdid: 2, Host: &pb.HostInfo{Ip: 5, Port: 81}},
		"no host":     {Seq: 7, Modid: 1, Cmdid: 2},
		"state 8":     {Seq: 7, Modid: 1, Cmdid: 2, Host: &pb.HostInfo{Ip: 5, Port: 80}, State: 8},
		"state -1":    {Seq: 7, Modid: 1, Cmdid: 2, Host: &pb.HostInfo{Ip: 5, Port: 80}, State: -1},
	} {
		if _, good := parseRegReply(replyFrame(t, m), 1, 2, 5, 80); good {
			t.Errorf("%s: taken", name)
		}
	}
	b := replyFrame(t, ok)
	for name, d := range map[string][]byte{
		"truncated": b[:len(b)-1],
		"header":    b[:8],
		"empty":     nil,
		"get_host":  append([]byte{5, 0, 0, 0}, b[4:]...), // msgid 5, little-endian
	} {
		if _, good := parseRegReply(d, 1, 2, 5, 80); good {
			t.Errorf("%s: taken", name)
		}
	}
}

// FuzzParseRegReply: any datagram is taken or dropped, never a crash, and what is
// taken is for the instance asked.
func FuzzParseRegReply(f *testing.F) {
	f.Add(replyFrame(f, &pb.RegisterReply{Seq: 1, Modid: 1, Cmdid: 2, Host: &pb.HostInfo{Ip: 5, Port: 80}, State: 1}))
	f.Add(replyFrame(f, &pb.RegisterReply{Seq: 1, Modid: 1, Cmdid: 2, Host: &pb.HostInfo{Ip: 5, Port: 80}, State: 4, Message: "refused"}))
	f.Add([]byte{104, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := parseRegReply(b, 1, 2, 5, 80)
		if ok && (a.state < RegPending || a.state > RegInvalid) {
			t.Fatalf("took state %v", a.state)
		}
	})
}

func TestAcceptOnlyNewAnswers(t *testing.T) {
	r := &Registration{c: &Client{}, seq: 5, acked: 3}
	for _, tc := range []struct {
		seq  uint32
		want bool
	}{{3, false}, {2, false}, {6, false}, {4, true}, {4, false}, {5, true}, {4, false}} {
		if got := r.accept(regReply{seq: tc.seq, state: RegActive}); got != tc.want {
			t.Errorf("answer %d after %d taken: %v", tc.seq, r.acked, got)
		}
	}
	if r.c.Stats().Late != 5 {
		t.Errorf("%d late, want 5", r.c.Stats().Late)
	}
}
