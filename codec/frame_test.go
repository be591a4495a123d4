package codec_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/larsgo/lars/codec"
)

// frame builds a datagram with the given header fields and body length.
func frame(id, msglen int32, bodyLen int) []byte {
	b := make([]byte, codec.HeaderSize+bodyLen)
	binary.LittleEndian.PutUint32(b, uint32(id))
	binary.LittleEndian.PutUint32(b[4:], uint32(msglen))
	return b
}

func TestParseDatagramMalformed(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want codec.Reason
	}{
		{"empty", nil, codec.ReasonTooShort},
		{"one byte", []byte{4}, codec.ReasonTooShort},
		{"seven bytes", make([]byte, 7), codec.ReasonTooShort},
		{"negative length", frame(4, -1, 0), codec.ReasonNegativeLength},
		{"most negative length", frame(4, -1<<31, 10), codec.ReasonNegativeLength},
		{"length over 65527", frame(4, 65528, 0), codec.ReasonTooLarge},
		{"length over 65527 with body", frame(4, 65528, 65528), codec.ReasonTooLarge},
		{"body shorter than length", frame(4, 6, 5), codec.ReasonLengthMismatch},
		{"body longer than length", frame(4, 6, 7), codec.ReasonLengthMismatch},
		{"length set, no body", frame(4, 1, 0), codec.ReasonLengthMismatch},
		{"zero length, trailing byte", frame(4, 0, 1), codec.ReasonLengthMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, body, r := codec.ParseDatagram(c.in)
			if r != c.want {
				t.Fatalf("reason = %v, want %v", r, c.want)
			}
			if body != nil {
				t.Fatalf("body = %x on a rejected datagram", body)
			}
			if !errors.Is(r.Err(), c.want.Err()) || r.Err() == nil {
				t.Fatalf("Err() = %v", r.Err())
			}
			if r.String() == "ok" || r.String() == "unknown" {
				t.Fatalf("label %q", r.String())
			}
		})
	}
}

func TestParseDatagramAccepts(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		id   codec.MsgID
		body int
	}{
		{"header only", frame(7, 0, 0), 7, 0},
		{"largest body", frame(8, codec.MaxBodySize, codec.MaxBodySize), 8, codec.MaxBodySize},
		{"unknown msgid is the caller's business", frame(99, 2, 2), 99, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, body, r := codec.ParseDatagram(c.in)
			if r != codec.ReasonOK || id != c.id || len(body) != c.body {
				t.Fatalf("got (%d, %d bytes, %v), want (%d, %d bytes, ok)", id, len(body), r, c.id, c.body)
			}
		})
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	b := codec.AppendHeader(nil, codec.MsgGetHostResponse, 17)
	p := make([]byte, codec.HeaderSize)
	codec.PutHeader(p, codec.MsgGetHostResponse, 17)
	if string(b) != string(p) {
		t.Fatalf("AppendHeader %x != PutHeader %x", b, p)
	}
	id, n := codec.ReadHeader(b)
	if id != codec.MsgGetHostResponse || n != 17 {
		t.Fatalf("ReadHeader = %d, %d", id, n)
	}
}

func TestNames(t *testing.T) {
	for id := codec.MsgGetRouteRequest; id <= codec.MsgAPIGetRouteResponse; id++ {
		if id.String() == "unknown" {
			t.Errorf("msgid %d has no name", id)
		}
	}
	for id := codec.MsgHello; id <= codec.MsgLeaseReply; id++ {
		if id.String() == "unknown" {
			t.Errorf("extension msgid %d has no name", id)
		}
	}
	if codec.MsgID(0).String() != "unknown" || codec.MsgID(9).String() != "unknown" || codec.MsgID(107).String() != "unknown" {
		t.Error("out-of-range msgid named")
	}
	for rc := codec.RetSucc; rc <= codec.RetNoExist; rc++ {
		if rc.String() == "unknown" {
			t.Errorf("retcode %d has no name", rc)
		}
	}
	for r := codec.ReasonOK; int(r) < codec.NumReasons; r++ {
		if r.String() == "unknown" {
			t.Errorf("reason %d has no label", r)
		}
	}
}
