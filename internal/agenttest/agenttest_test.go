package agenttest

import (
	"net"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// TestStartServes: the agent answers get_host on each of its ports with a host of the
// routes it was given.
func TestStartServes(t *testing.T) {
	h := route.FromWire(10<<24|7, 8007)
	_, ports := Start(t, map[route.Key][]route.Host{{Modid: 3, Cmdid: 4}: {h}}, 3)
	if len(ports) != 3 {
		t.Fatalf("%d ports, want 3", len(ports))
	}
	for _, p := range ports {
		conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(p)})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		frame, err := codec.AppendFrame(nil, codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: 1, Modid: 3, Cmdid: 4})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(frame); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // generous: the machine may be busy
		buf := make([]byte, 2048)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("port %d: %v", p, err)
		}
		id, ansBody, r := codec.ParseDatagram(buf[:n])
		var ans pb.GetHostResponse
		if r != codec.ReasonOK || id != codec.MsgGetHostResponse || ans.UnmarshalVT(ansBody) != nil {
			t.Fatalf("port %d: answer %x", p, buf[:n])
		}
		if ans.Retcode != 0 || route.FromWire(ans.Host.GetIp(), ans.Host.GetPort()) != h {
			t.Fatalf("port %d: %v", p, &ans)
		}
	}
}
