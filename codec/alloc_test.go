//go:build !race

package codec_test

import (
	"bytes"
	"testing"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/alloctest"
)

// assertNoAllocs fails when f allocates at all, averaged over 1,000 runs.
func assertNoAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	alloctest.Zero(t, name, 1000, f)
}

func TestNoAllocDecodeGetHost(t *testing.T) {
	frame := loadVectors(t)["get_host_request_big"]
	var m pb.GetHostRequest
	assertNoAllocs(t, "parse and decode get_host", func() {
		id, body, r := codec.ParseDatagram(frame)
		if r != codec.ReasonOK || id != codec.MsgGetHostRequest {
			t.Fatal("rejected")
		}
		m.ResetVT()
		if err := m.UnmarshalVT(body); err != nil || m.Seq != 300 {
			t.Fatal(err)
		}
	})
}

func TestNoAllocDecodeReport(t *testing.T) {
	frame := loadVectors(t)["report_request_fail"]
	var m pb.ReportRequest
	assertNoAllocs(t, "parse and decode report", func() {
		_, body, _ := codec.ParseDatagram(frame)
		m.ResetVT()
		if err := m.UnmarshalVT(body); err != nil || m.GetHost().GetPort() != 7001 {
			t.Fatal(err)
		}
	})
}

func TestNoAllocEncodeGetHostResponse(t *testing.T) {
	want := loadVectors(t)["get_host_response_high_ip"]
	m := &pb.GetHostResponse{Seq: 4, Modid: 1, Cmdid: 1, Host: &pb.HostInfo{Ip: -1062731519, Port: 8080}}
	buf := make([]byte, 0, 128)
	var out []byte
	assertNoAllocs(t, "encode get_host response", func() {
		var err error
		if out, err = codec.AppendFrame(buf[:0], codec.MsgGetHostResponse, m); err != nil {
			t.Fatal(err)
		}
	})
	if !bytes.Equal(out, want) {
		t.Fatalf("encoded %x, want %x", out, want)
	}
}

func TestNoAllocEncodeRoute10(t *testing.T) {
	m := route10()
	buf := make([]byte, 0, 512)
	assertNoAllocs(t, "encode 10-host route", func() {
		if _, err := codec.AppendFrame(buf[:0], codec.MsgAPIGetRouteResponse, m); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNoAllocStreamReader(t *testing.T) {
	stream, _, _ := streamOf(t, "dns_get_route_response", "report_status_request", "dns_get_route_request")
	s := codec.NewStreamReader(&loopReader{data: stream, chunk: 17}, 0)
	for range 1000 { // warm up: fill and compact the buffer a few times
		if _, _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	}
	assertNoAllocs(t, "stream reader steady state", func() {
		if _, _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	})
}
