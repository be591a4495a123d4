package codec_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// equalKnown compares two messages on their known fields only: how unknown fields are
// kept is the decoders' business, and the agent never looks at them.
func equalKnown(a, b proto.Message) bool {
	a, b = proto.Clone(a), proto.Clone(b)
	discardUnknown(a.ProtoReflect())
	discardUnknown(b.ProtoReflect())
	return proto.Equal(a, b)
}

func discardUnknown(m protoreflect.Message) {
	m.SetUnknown(nil)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Message() == nil:
		case fd.IsList():
			for i := range v.List().Len() {
				discardUnknown(v.List().Get(i).Message())
			}
		default:
			discardUnknown(v.Message())
		}
		return true
	})
}

// addVectorSeeds adds every golden frame to the corpus, whole and as a bare body.
func addVectorSeeds(f *testing.F, bodies bool) {
	for _, frame := range loadVectors(f) {
		if bodies {
			f.Add(frame[codec.HeaderSize:])
		} else {
			f.Add(frame)
		}
	}
}

func FuzzParseDatagram(f *testing.F) {
	addVectorSeeds(f, false)
	f.Add([]byte{})
	f.Add(frame(4, -1, 0))
	f.Add(frame(4, 65528, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, body, r := codec.ParseDatagram(b)
		if r != codec.ReasonOK {
			if body != nil {
				t.Fatal("body on a rejected datagram")
			}
			return
		}
		if len(body) != len(b)-codec.HeaderSize || len(body) > codec.MaxBodySize {
			t.Fatalf("body of %d bytes from a datagram of %d", len(body), len(b))
		}
		// Re-framing the accepted body gives back the datagram.
		again := append(codec.AppendHeader(nil, id, len(body)), body...)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-framed %x, want %x", again, b)
		}
	})
}

func FuzzStreamReader(f *testing.F) {
	var all []byte
	for _, frame := range loadVectors(f) {
		f.Add(frame, uint8(3))
		all = append(all, frame...)
	}
	f.Add(all, uint8(1))
	f.Add(append(bytes.Clone(all), frame(2, -1, 0)...), uint8(200))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		r := &chunkReaderFixed{data: stream, chunk: int(chunk%64) + 1}
		s := codec.NewStreamReader(r, 0)
		consumed := 0
		for range len(stream) + 1 {
			id, body, err := s.Next()
			if err != nil {
				switch {
				case err == io.EOF:
					if consumed != len(stream) {
						t.Fatalf("EOF after %d of %d bytes", consumed, len(stream))
					}
				case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, codec.ErrProtocol):
				default:
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			want := stream[consumed:]
			wid, wlen := codec.ReadHeader(want)
			if wid != id || int(wlen) != len(body) || !bytes.Equal(body, want[codec.HeaderSize:codec.HeaderSize+len(body)]) {
				t.Fatalf("frame at %d differs from the stream", consumed)
			}
			consumed += codec.HeaderSize + len(body)
		}
		t.Fatal("more frames than bytes")
	})
}

// chunkReaderFixed returns its data chunk bytes at a time.
type chunkReaderFixed struct {
	data  []byte
	chunk int
}

func (c *chunkReaderFixed) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.data)
	c.data = c.data[n:]
	return n, nil
}

// fuzzMessage checks that decoding arbitrary bytes never panics, that where both the
// generated and the reference decoder accept the bytes they agree on the value, and that
// decode -> encode -> decode is stable. The two may differ on acceptance of malformed
// unknown fields: the generated decoder refuses a known field with the wrong wire type
// (the reference keeps it as unknown) and skips malformed unknown groups (the reference
// refuses them); the seeds under testdata/fuzz pin both cases.
func fuzzMessage[T any, P interface {
	*T
	vtMessage
}](t *testing.T, body []byte) {
	var m T
	first := P(&m)
	vtErr := first.UnmarshalVT(body)
	var ref T
	refErr := proto.Unmarshal(body, P(&ref))
	if vtErr != nil {
		return
	}
	if refErr == nil && !equalKnown(first, P(&ref)) {
		t.Fatalf("vtprotobuf decoded %v, reference %v", first, P(&ref))
	}
	enc, err := codec.AppendFrame(nil, 1, first)
	if err != nil {
		if errors.Is(err, codec.ErrFrameTooLarge) {
			return
		}
		t.Fatal(err)
	}
	var n T
	second := P(&n)
	if err := second.UnmarshalVT(enc[codec.HeaderSize:]); err != nil {
		t.Fatalf("re-decoding own encoding: %v", err)
	}
	if !proto.Equal(first, second) {
		t.Fatalf("round trip changed %v into %v", first, second)
	}
	again, _ := codec.AppendFrame(nil, 1, second)
	if !bytes.Equal(enc, again) {
		t.Fatalf("encoding not stable: %x then %x", enc, again)
	}
}

func FuzzDecodeGetHostRequest(f *testing.F) {
	addVectorSeeds(f, true)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzMessage[pb.GetHostRequest](t, b) })
}

func FuzzDecodeReportRequest(f *testing.F) {
	addVectorSeeds(f, true)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzMessage[pb.ReportRequest](t, b) })
}

func FuzzDecodeGetRouteRequest(f *testing.F) {
	addVectorSeeds(f, true)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzMessage[pb.GetRouteRequest](t, b) })
}

func FuzzDecodeGetRouteResponse(f *testing.F) {
	addVectorSeeds(f, true)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzMessage[pb.GetRouteResponse](t, b) })
}

func FuzzDecodeGetHostResponse(f *testing.F) {
	addVectorSeeds(f, true)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzMessage[pb.GetHostResponse](t, b) })
}

func FuzzDecodeReportStatusRequest(f *testing.F) {
	addVectorSeeds(f, true)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzMessage[pb.ReportStatusRequest](t, b) })
}
