package codec_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/route"
	"google.golang.org/protobuf/proto"
)

// vtMessage is what every generated message offers: encoding, decoding and comparison.
type vtMessage interface {
	proto.Message
	codec.Marshaler
	codec.Unmarshaler
}

// loadVectors returns the golden frames of internal/vectors.
func loadVectors(tb testing.TB) map[string][]byte {
	tb.Helper()
	return vectors.All()
}

func host(ip string, port int32) *pb.HostInfo {
	v, err := route.ParseWireIP(ip)
	if err != nil {
		panic(err)
	}
	return &pb.HostInfo{Ip: v, Port: port}
}

// host6 is an IPv6 host in the extension field ip6 (ip stays 0).
func host6(ip string, port int32) *pb.HostInfo {
	a := netip.MustParseAddr(ip).As16()
	return &pb.HostInfo{Port: port, Ip6: a[:]}
}

// routeExtHosts are the hosts of the route extension vectors: an IPv4 host with a
// weight and a zone, and an IPv6 host with a weight.
func routeExtHosts() []*pb.HostInfo {
	v4 := host("127.0.0.1", 7000)
	v4.Weight, v4.Zone = 200, "sh-a"
	v6 := host6("2001:db8::1", 7001)
	v6.Weight = 100
	return []*pb.HostInfo{v4, v6}
}

// goldenCase is one vector's meaning, written from the comment above it in vectors.txt.
type goldenCase struct {
	id  codec.MsgID
	msg vtMessage
	new func() vtMessage
}

func goldenCases() map[string]goldenCase {
	getHostReq := func() vtMessage { return &pb.GetHostRequest{} }
	getHostResp := func() vtMessage { return &pb.GetHostResponse{} }
	report := func() vtMessage { return &pb.ReportRequest{} }
	routeReq := func() vtMessage { return &pb.GetRouteRequest{} }
	routeResp := func() vtMessage { return &pb.GetRouteResponse{} }
	return map[string]goldenCase{
		"get_host_request":     {codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: 1, Modid: 1, Cmdid: 1}, getHostReq},
		"get_host_request_big": {codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: 300, Modid: 100000, Cmdid: 2}, getHostReq},
		"get_host_response_succ": {codec.MsgGetHostResponse,
			&pb.GetHostResponse{Seq: 1, Modid: 1, Cmdid: 1, Host: host("127.0.0.1", 7000)}, getHostResp},
		"get_host_response_overload": {codec.MsgGetHostResponse,
			&pb.GetHostResponse{Seq: 2, Modid: 1, Cmdid: 1, Retcode: int32(codec.RetOverload)}, getHostResp},
		"get_host_response_noexist": {codec.MsgGetHostResponse,
			&pb.GetHostResponse{Seq: 3, Modid: 9, Cmdid: 9, Retcode: int32(codec.RetNoExist)}, getHostResp},
		"get_host_response_high_ip": {codec.MsgGetHostResponse,
			&pb.GetHostResponse{Seq: 4, Modid: 1, Cmdid: 1, Host: host("192.168.1.1", 8080)}, getHostResp},
		"report_request_succ": {codec.MsgReportRequest,
			&pb.ReportRequest{Modid: 1, Cmdid: 1, Host: host("127.0.0.1", 7000)}, report},
		"report_request_fail": {codec.MsgReportRequest,
			&pb.ReportRequest{Modid: 1, Cmdid: 1, Host: host("127.0.0.2", 7001), Retcode: 1}, report},
		"api_get_route_request": {codec.MsgAPIGetRouteRequest, &pb.GetRouteRequest{Modid: 1, Cmdid: 1}, routeReq},
		"api_get_route_response": {codec.MsgAPIGetRouteResponse, &pb.GetRouteResponse{Modid: 1, Cmdid: 1,
			Host: []*pb.HostInfo{host("127.0.0.1", 7000), host("127.0.0.2", 7001), host("127.0.0.3", 7002)}}, routeResp},
		"api_get_route_response_empty": {codec.MsgAPIGetRouteResponse, &pb.GetRouteResponse{Modid: 5, Cmdid: 5}, routeResp},
		"dns_get_route_request":        {codec.MsgGetRouteRequest, &pb.GetRouteRequest{Modid: 1, Cmdid: 1}, routeReq},
		"dns_get_route_response": {codec.MsgGetRouteResponse, &pb.GetRouteResponse{Modid: 1, Cmdid: 1,
			Host: []*pb.HostInfo{host("127.0.0.1", 7000), host("127.0.0.2", 7001)}}, routeResp},
		"report_status_request": {codec.MsgReportStatusRequest, &pb.ReportStatusRequest{
			Modid: 1, Cmdid: 1, Caller: host("127.0.0.1", 0).Ip, Ts: 1700000000,
			Results: []*pb.HostCallResult{
				{Ip: host("127.0.0.1", 0).Ip, Port: 7000, Succ: 180, Err: 2},
				{Ip: host("127.0.0.2", 0).Ip, Port: 7001, Err: 5, Overload: true},
			}}, func() vtMessage { return &pb.ReportStatusRequest{} }},
		"ext_hello": {codec.MsgHello, &pb.Hello{Features: uint32(pb.Feature_FEATURE_UNSUBSCRIBE)},
			func() vtMessage { return &pb.Hello{} }},
		"ext_hello_reply": {codec.MsgHelloReply,
			&pb.HelloReply{Features: uint32(pb.Feature_FEATURE_UNSUBSCRIBE), IdleTimeoutMs: 600000},
			func() vtMessage { return &pb.HelloReply{} }},
		"ext_unsubscribe": {codec.MsgUnsubscribe, &pb.Unsubscribe{Keys: []*pb.RouteKey{
			{Modid: 1, Cmdid: 1}, {Modid: 100000, Cmdid: 2}}}, func() vtMessage { return &pb.Unsubscribe{} }},
		"ext_hello_reply_register": {codec.MsgHelloReply,
			&pb.HelloReply{Features: uint32(pb.Feature_FEATURE_UNSUBSCRIBE | pb.Feature_FEATURE_REGISTER), IdleTimeoutMs: 600000},
			func() vtMessage { return &pb.HelloReply{} }},
		"ext_register_request": {codec.MsgRegisterRequest, &pb.RegisterRequest{Seq: 7, Modid: 1, Cmdid: 1,
			Host: host("127.0.0.1", 7000), TtlMs: 10000, Op: pb.RegisterOp_REGISTER_NEW, Check: "tcp", CheckIntervalMs: 1000},
			func() vtMessage { return &pb.RegisterRequest{} }},
		"ext_register_reply": {codec.MsgRegisterReply, &pb.RegisterReply{Seq: 7, Modid: 1, Cmdid: 1,
			Host: host("127.0.0.1", 7000), State: pb.RegisterState_REG_ACTIVE, TtlMs: 10000},
			func() vtMessage { return &pb.RegisterReply{} }},
		"ext_lease": {codec.MsgLease, &pb.Lease{Entries: []*pb.LeaseEntry{
			{Modid: 1, Cmdid: 1, Host: host("127.0.0.1", 7000), TtlMs: 10000, Op: pb.LeaseOp_LEASE_NEW},
			{Modid: 1, Cmdid: 1, Host: host("127.0.0.2", 7001), TtlMs: 10000, Op: pb.LeaseOp_LEASE_DROP}}},
			func() vtMessage { return &pb.Lease{} }},
		"ext_hello_route_ext": {codec.MsgHello, &pb.Hello{Features: uint32(pb.Feature_FEATURE_UNSUBSCRIBE | pb.Feature_FEATURE_ROUTE_EXT)},
			func() vtMessage { return &pb.Hello{} }},
		"ext_get_host_request_accept": {codec.MsgGetHostRequest,
			&pb.GetHostRequest{Seq: 5, Modid: 1, Cmdid: 1, Accept: uint32(pb.Accept_ACCEPT_ROUTE_EXT)}, getHostReq},
		"ext_get_host_response_ip6": {codec.MsgGetHostResponse,
			&pb.GetHostResponse{Seq: 5, Modid: 1, Cmdid: 1, Host: host6("2001:db8::1", 7000)}, getHostResp},
		"ext_report_request_ip6": {codec.MsgReportRequest,
			&pb.ReportRequest{Modid: 1, Cmdid: 1, Host: host6("2001:db8::1", 7000), Retcode: 1}, report},
		"ext_api_get_route_request_accept": {codec.MsgAPIGetRouteRequest,
			&pb.GetRouteRequest{Modid: 1, Cmdid: 1, Accept: uint32(pb.Accept_ACCEPT_ROUTE_EXT)}, routeReq},
		"ext_api_get_route_response_ext": {codec.MsgAPIGetRouteResponse, &pb.GetRouteResponse{Modid: 1, Cmdid: 1,
			Host: routeExtHosts()}, routeResp},
		"ext_dns_get_route_response_ext": {codec.MsgGetRouteResponse, &pb.GetRouteResponse{Modid: 1, Cmdid: 1,
			Host: routeExtHosts()}, routeResp},
		"ext_lease_reply": {codec.MsgLeaseReply, &pb.LeaseReply{Results: []*pb.LeaseResult{
			{Modid: 1, Cmdid: 1, Host: host("127.0.0.1", 7000), Op: pb.LeaseOp_LEASE_NEW, Status: pb.LeaseStatus_LEASE_OK},
			{Modid: 2, Cmdid: 1, Host: host("127.0.0.1", 7000), Status: pb.LeaseStatus_LEASE_DENIED, Message: "not allowed"}}},
			func() vtMessage { return &pb.LeaseReply{} }},
	}
}

func TestGoldenVectorsDecode(t *testing.T) {
	vectors := loadVectors(t)
	cases := goldenCases()
	if len(vectors) != len(cases) {
		t.Fatalf("vectors.txt has %d frames, the test knows %d", len(vectors), len(cases))
	}
	for name, frame := range vectors {
		t.Run(name, func(t *testing.T) {
			c, ok := cases[name]
			if !ok {
				t.Fatalf("no expected value for vector %s", name)
			}
			id, body, r := codec.ParseDatagram(frame)
			if r != codec.ReasonOK {
				t.Fatalf("ParseDatagram rejected the frame: %v", r)
			}
			if id != c.id {
				t.Fatalf("msgid = %d, want %d", id, c.id)
			}
			got := c.new()
			if err := got.UnmarshalVT(body); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, c.msg) {
				t.Fatalf("decoded %v, want %v", got, c.msg)
			}
		})
	}
}

func TestGoldenVectorsEncode(t *testing.T) {
	vectors := loadVectors(t)
	for name, c := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			want := vectors[name]
			got, err := codec.AppendFrame(nil, c.id, c.msg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("AppendFrame = %x\nwant          %x", got, want)
			}
			// The reflection-based encoder must agree: the vectors are canonical proto3.
			ref, err := proto.MarshalOptions{Deterministic: true}.Marshal(c.msg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ref, want[codec.HeaderSize:]) {
				t.Fatalf("proto.Marshal = %x, want body %x", ref, want[codec.HeaderSize:])
			}
			if n := codec.FrameSize(c.msg); n != len(want) {
				t.Fatalf("FrameSize = %d, want %d", n, len(want))
			}
		})
	}
}

func TestAppendFrameKeepsPrefix(t *testing.T) {
	prefix := []byte("prefix")
	m := &pb.GetRouteRequest{Modid: 1, Cmdid: 1}
	got, err := codec.AppendFrame(append([]byte(nil), prefix...), codec.MsgAPIGetRouteRequest, m)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte(nil), prefix...), loadVectors(t)["api_get_route_request"]...)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x want %x", got, want)
	}
}

func TestAppendFrameTooLarge(t *testing.T) {
	m := &pb.GetRouteResponse{Modid: 1, Cmdid: 1}
	for i := range 6000 { // 6000 hosts of ~11-16 bytes each is over 65527 bytes
		m.Host = append(m.Host, &pb.HostInfo{Ip: int32(-i - 1), Port: 65000})
	}
	dst := []byte{1, 2, 3}
	got, err := codec.AppendFrame(dst, codec.MsgAPIGetRouteResponse, m)
	if err != codec.ErrFrameTooLarge {
		t.Fatalf("err = %v, want ErrFrameTooLarge", err)
	}
	if !bytes.Equal(got, dst) {
		t.Fatalf("dst changed on error: %x", got)
	}
}
