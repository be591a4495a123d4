package loadgen

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/loadgen/hostmodel"
)

func TestReportCarriesModelledLatency(t *testing.T) {
	e := newEncoder()
	frame := e.reportReq(nil, 1, 2, 3, 4, 1, 2500)
	_, body, r := codec.ParseDatagram(frame)
	if r != codec.ReasonOK {
		t.Fatal(r)
	}
	var m larspb.ReportRequest
	if err := m.UnmarshalVT(body); err != nil {
		t.Fatal(err)
	}
	if m.LatencyUs != 2500 || m.Retcode != 1 || m.Host.GetPort() != 4 {
		t.Fatalf("decoded %+v", &m)
	}
	r2 := &runner{cfg: Config{Hosts: hostmodel.Model{Default: hostmodel.Behaviour{Latency: 3 * time.Millisecond, Fail: 1}}}, start: time.Now()}
	if rc, us := r2.callResult(1, 1, rand.New(rand.NewPCG(1, 1))); rc != 1 || us != 3000 {
		t.Fatalf("callResult %d %d, want 1 3000", rc, us)
	}
}
