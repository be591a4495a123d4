package codec_test

import (
	"testing"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"google.golang.org/protobuf/proto"
)

var (
	sinkBytes []byte
	sinkInt   int
)

func BenchmarkDecodeGetHost(b *testing.B) {
	frame := loadVectors(b)["get_host_request_big"]
	var m pb.GetHostRequest
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		_, body, _ := codec.ParseDatagram(frame)
		m.ResetVT()
		if err := m.UnmarshalVT(body); err != nil {
			b.Fatal(err)
		}
	}
	sinkInt = int(m.Seq)
}

// BenchmarkDecodeGetHostProto is the baseline: the reflection-based decoder.
func BenchmarkDecodeGetHostProto(b *testing.B) {
	frame := loadVectors(b)["get_host_request_big"]
	var m pb.GetHostRequest
	b.ReportAllocs()
	for b.Loop() {
		_, body, _ := codec.ParseDatagram(frame)
		if err := proto.Unmarshal(body, &m); err != nil {
			b.Fatal(err)
		}
	}
	sinkInt = int(m.Seq)
}

func BenchmarkEncodeGetHostResponse(b *testing.B) {
	m := &pb.GetHostResponse{Seq: 4, Modid: 1, Cmdid: 1, Host: &pb.HostInfo{Ip: -1062731519, Port: 8080}}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = codec.AppendFrame(buf[:0], codec.MsgGetHostResponse, m)
	}
	sinkBytes = buf
}

// BenchmarkEncodeGetHostResponseProto is the baseline: the reflection-based encoder.
func BenchmarkEncodeGetHostResponseProto(b *testing.B) {
	m := &pb.GetHostResponse{Seq: 4, Modid: 1, Cmdid: 1, Host: &pb.HostInfo{Ip: -1062731519, Port: 8080}}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = proto.MarshalOptions{}.MarshalAppend(buf[:0], m)
	}
	sinkBytes = buf
}

func BenchmarkEncodeRoute10(b *testing.B) {
	m := route10()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = codec.AppendFrame(buf[:0], codec.MsgAPIGetRouteResponse, m)
	}
	sinkBytes = buf
}

func BenchmarkEncodeRoute10Proto(b *testing.B) {
	m := route10()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = proto.MarshalOptions{}.MarshalAppend(buf[:0], m)
	}
	sinkBytes = buf
}

func BenchmarkDecodeRoute10(b *testing.B) {
	frame, _ := codec.AppendFrame(nil, codec.MsgGetRouteResponse, route10())
	var m pb.GetRouteResponse
	b.ReportAllocs()
	for b.Loop() {
		_, body, _ := codec.ParseDatagram(frame)
		m.ResetVT()
		if err := m.UnmarshalVT(body); err != nil {
			b.Fatal(err)
		}
	}
	sinkInt = len(m.Host)
}

func BenchmarkStreamReader(b *testing.B) {
	stream, err := codec.AppendFrame(nil, codec.MsgGetRouteResponse, route10())
	if err != nil {
		b.Fatal(err)
	}
	s := codec.NewStreamReader(&loopReader{data: stream, chunk: 4096}, 0)
	b.ReportAllocs()
	for b.Loop() {
		_, body, err := s.Next()
		if err != nil {
			b.Fatal(err)
		}
		sinkInt = len(body)
	}
}
