package apitest

import (
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// RegisterFunc chooses the fake agent's answer to a register request (msgid 103): r
// is the request and n counts the register requests for its instance (key and
// host) from 0.
type RegisterFunc func(r Request, n int) RegisterAnswer

// RegisterAnswer is the fake agent's answer to a register request.
type RegisterAnswer struct {
	State   api.RegState
	Message string
	// TTL is the ttl answered; 0: the request's.
	TTL time.Duration
	// Silent sends no answer, as a Lars agent does.
	Silent bool
	// Raw, if set, is sent instead of the answer: a malformed one, or another
	// instance's.
	Raw []byte
}

// regKey is a registered instance.
type regKey struct {
	Key
	host api.Host
}

// SetRegisterFunc makes f answer the register requests; nil restores the default:
// REGISTER_NEW and REGISTER_KEEP answered RegActive, REGISTER_DROP RegGone, each with
// the request's ttl.
func (a *Agent) SetRegisterFunc(f RegisterFunc) {
	a.mu.Lock()
	a.regFn = f
	a.mu.Unlock()
}

// Registers returns the register requests among Requests.
func (a *Agent) Registers() []Request {
	var out []Request
	for _, r := range a.Requests() {
		if r.MsgID == codec.MsgRegisterRequest {
			out = append(out, r)
		}
	}
	return out
}

// defaultRegister is the answer of an agent that takes every registration.
func defaultRegister(r Request, _ int) RegisterAnswer {
	if r.RegOp == int32(pb.RegisterOp_REGISTER_DROP) {
		return RegisterAnswer{State: api.RegGone}
	}
	return RegisterAnswer{State: api.RegActive}
}

// register records a register request and returns its answer.
func (s *server) register(body []byte) ([]byte, time.Duration, bool) {
	q := &s.regReq
	q.Reset()
	if q.UnmarshalVT(body) != nil {
		s.a.bad.Add(1)
		return nil, 0, false
	}
	r := Request{Port: s.port(), MsgID: codec.MsgRegisterRequest, Seq: q.Seq, Modid: q.Modid,
		Cmdid: q.Cmdid, Host: route.FromWire(q.GetHost().GetIp(), q.GetHost().GetPort()),
		RegOp: int32(q.Op), TTLMS: q.TtlMs, Check: q.Check, CheckIntervalMS: q.CheckIntervalMs}
	a := s.a
	a.mu.Lock()
	drop, delay := a.record(r)
	k := regKey{Key{q.Modid, q.Cmdid}, r.Host}
	n := a.regCalls[k]
	a.regCalls[k]++
	f := a.regFn
	a.mu.Unlock()
	if f == nil {
		f = defaultRegister
	}
	ans := f(r, n)
	if drop || ans.Silent {
		return nil, 0, false
	}
	if ans.Raw != nil {
		s.out = append(s.out[:0], ans.Raw...)
		return s.out, delay, true
	}
	rep := &s.regRep
	rep.Reset()
	rep.Seq, rep.Modid, rep.Cmdid, rep.Host = q.Seq, q.Modid, q.Cmdid, q.Host
	rep.State, rep.Message, rep.TtlMs = pb.RegisterState(ans.State), ans.Message, q.TtlMs
	if ans.TTL > 0 {
		rep.TtlMs = uint32(ans.TTL.Milliseconds())
	}
	var err error
	s.out, err = codec.AppendFrame(s.out[:0], codec.MsgRegisterReply, rep)
	return s.out, delay, err == nil
}
