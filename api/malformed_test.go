package api_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// TestMalformedAnswers plays the agent by hand to send what the fake never does:
// broken datagrams, an unknown msgid, an answer naming another key for the seq, and one
// whose host's ip6 is not 16 bytes.
func TestMalformedAnswers(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := newClient(t, api.Config{Ports: []uint16{conn.LocalAddr().(*net.UDPAddr).AddrPort().Port()}, Timeout: patience})

	// answer reads one get_host request and sends junk, then the answer for modid,
	// cmdid with the request's seq.
	answer := func(modid, cmdid int32, host *pb.HostInfo) {
		buf := make([]byte, 2048)
		conn.SetReadDeadline(time.Now().Add(patience))
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Error(err)
			return
		}
		_, body, _ := codec.ParseDatagram(buf[:n])
		var req pb.GetHostRequest
		if err := req.UnmarshalVT(body); err != nil {
			t.Error(err)
			return
		}
		junk := [][]byte{
			{1, 2, 3},                            // shorter than a header
			{5, 0, 0, 0, 9, 0, 0, 0, 1},          // length mismatch
			{5, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff}, // body that does not parse
			{42, 0, 0, 0, 0, 0, 0, 0},            // unknown msgid
		}
		for _, j := range junk {
			conn.WriteToUDPAddrPort(j, from)
		}
		resp := &pb.GetHostResponse{Seq: req.Seq, Modid: modid, Cmdid: cmdid, Host: host}
		out, _ := codec.AppendFrame(nil, codec.MsgGetHostResponse, resp)
		conn.WriteToUDPAddrPort(out, from)
	}

	go answer(1, 1, &pb.HostInfo{Ip: 1, Port: 2})
	if h, err := c.GetHost(context.Background(), 1, 1); err != nil || h != (route.FromWire(1, 2)) {
		t.Fatalf("GetHost through junk = %v, %v", h, err)
	}
	go answer(9, 9, &pb.HostInfo{Ip: 1, Port: 2})
	if _, err := c.GetHost(context.Background(), 1, 1); !errors.Is(err, api.ErrSystem) {
		t.Fatalf("GetHost answered for another key = %v, want ErrSystem", err)
	}
	go answer(1, 1, &pb.HostInfo{Ip6: []byte{1, 2, 3}, Port: 2}) // an ip6 not 16 bytes
	if _, err := c.GetHost(context.Background(), 1, 1); !errors.Is(err, api.ErrSystem) {
		t.Fatalf("GetHost answered a malformed ip6 = %v, want ErrSystem", err)
	}
	if s := c.Stats(); s.Malformed != 14 || s.Received != 15 {
		t.Errorf("stats %+v, want 14 malformed of 15 received", s)
	}
}
