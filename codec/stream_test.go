package codec_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"testing/iotest"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
)

// chunkReader returns the data in pieces of random sizes, 1 to max bytes.
type chunkReader struct {
	data []byte
	rng  *rand.Rand
	max  int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(1+c.rng.IntN(c.max), len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// streamOf concatenates the named vectors, and returns them with their msgids and bodies.
func streamOf(t *testing.T, names ...string) (stream []byte, ids []codec.MsgID, bodies [][]byte) {
	t.Helper()
	v := loadVectors(t)
	for _, n := range names {
		f := v[n]
		stream = append(stream, f...)
		id, body, r := codec.ParseDatagram(f)
		if r != codec.ReasonOK {
			t.Fatal(r)
		}
		ids = append(ids, id)
		bodies = append(bodies, body)
	}
	return stream, ids, bodies
}

func readAll(t *testing.T, s *codec.StreamReader) (ids []codec.MsgID, bodies [][]byte, err error) {
	t.Helper()
	for range 100000 {
		id, body, err := s.Next()
		if err != nil {
			return ids, bodies, err
		}
		ids = append(ids, id)
		bodies = append(bodies, bytes.Clone(body))
	}
	t.Fatal("stream did not end")
	return nil, nil, nil
}

func checkFrames(t *testing.T, gotIDs, wantIDs []codec.MsgID, got, want [][]byte) {
	t.Helper()
	if len(gotIDs) != len(wantIDs) {
		t.Fatalf("read %d frames, want %d", len(gotIDs), len(wantIDs))
	}
	for i := range wantIDs {
		if gotIDs[i] != wantIDs[i] || !bytes.Equal(got[i], want[i]) {
			t.Fatalf("frame %d = (%d, %x), want (%d, %x)", i, gotIDs[i], got[i], wantIDs[i], want[i])
		}
	}
}

func TestStreamReaderFraming(t *testing.T) {
	names := []string{"dns_get_route_response", "dns_get_route_request", "report_status_request", "api_get_route_response_empty"}
	stream, wantIDs, wantBodies := streamOf(t, names...)
	readers := map[string]func() io.Reader{
		"coalesced in one read": func() io.Reader { return bytes.NewReader(stream) },
		"one byte per read":     func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"random chunks":         func() io.Reader { return &chunkReader{stream, rand.New(rand.NewPCG(1, 2)), 13} },
		"data with EOF":         func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			ids, bodies, err := readAll(t, codec.NewStreamReader(mk(), 0))
			if err != io.EOF {
				t.Fatalf("end error = %v, want io.EOF", err)
			}
			checkFrames(t, ids, wantIDs, bodies, wantBodies)
		})
	}
}

// TestStreamReaderCompaction pushes many frames, some of the largest size, through the
// smallest buffer so that partial frames are moved to the buffer's front many times.
func TestStreamReaderCompaction(t *testing.T) {
	var stream []byte
	var wantIDs []codec.MsgID
	var wantBodies [][]byte
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		n := rng.IntN(3000)
		if i%50 == 0 {
			n = codec.MaxBodySize
		}
		body := make([]byte, n)
		for j := range body {
			body[j] = byte(i + j)
		}
		stream = append(codec.AppendHeader(stream, codec.MsgID(i%8+1), n), body...)
		wantIDs = append(wantIDs, codec.MsgID(i%8+1))
		wantBodies = append(wantBodies, body)
	}
	s := codec.NewStreamReader(&chunkReader{stream, rng, 70000}, 1)
	ids, bodies, err := readAll(t, s)
	if err != io.EOF {
		t.Fatalf("end error = %v", err)
	}
	checkFrames(t, ids, wantIDs, bodies, wantBodies)
}

func TestStreamReaderErrors(t *testing.T) {
	good, _, _ := streamOf(t, "dns_get_route_request")
	readErr := errors.New("boom")
	cases := []struct {
		name   string
		in     io.Reader
		frames int
		is     []error
	}{
		{"negative length", bytes.NewReader(append(bytes.Clone(good), frame(2, -5, 0)...)), 1,
			[]error{codec.ErrProtocol, codec.ErrNegativeLength}},
		{"oversized length", bytes.NewReader(append(bytes.Clone(good), frame(2, 65528, 100)...)), 1,
			[]error{codec.ErrProtocol, codec.ErrTooLarge}},
		{"eof in header", bytes.NewReader(append(bytes.Clone(good), 2, 0, 0)), 1, []error{io.ErrUnexpectedEOF}},
		{"eof in body", bytes.NewReader(good[:len(good)-1]), 0, []error{io.ErrUnexpectedEOF}},
		{"empty stream", bytes.NewReader(nil), 0, []error{io.EOF}},
		{"read error", io.MultiReader(bytes.NewReader(good), iotest.ErrReader(readErr)), 1, []error{readErr}},
		{"reader makes no progress", emptyReader{}, 0, []error{io.ErrNoProgress}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ids, _, err := readAll(t, codec.NewStreamReader(c.in, 0))
			if len(ids) != c.frames {
				t.Fatalf("read %d frames before the error, want %d", len(ids), c.frames)
			}
			for _, want := range c.is {
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want it to match %v", err, want)
				}
			}
		})
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestStreamReaderOverTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const frames = 2000
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		m := &pb.GetRouteResponse{Modid: 1, Cmdid: 2}
		var buf []byte
		for i := range frames {
			m.Host = append(m.Host[:0], &pb.HostInfo{Ip: int32(i), Port: int32(i % 65536)})
			buf, _ = codec.AppendFrame(buf[:0], codec.MsgGetRouteResponse, m)
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := codec.NewStreamReader(c, 0)
	var m pb.GetRouteResponse
	for i := range frames {
		id, body, err := s.Next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if err := m.UnmarshalVT(body); err != nil || id != codec.MsgGetRouteResponse || m.Host[0].Ip != int32(i) {
			t.Fatalf("frame %d: id %d, %v, %v", i, id, &m, err)
		}
		m.ResetVT()
	}
	if _, _, err := s.Next(); err != io.EOF {
		t.Fatalf("after the last frame: %v", err)
	}
}

func TestStreamReaderReset(t *testing.T) {
	stream, _, _ := streamOf(t, "dns_get_route_request", "dns_get_route_request")
	s := codec.NewStreamReader(bytes.NewReader(stream), 0)
	if _, _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	if s.Buffered() != len(stream)/2 {
		t.Fatalf("Buffered = %d", s.Buffered())
	}
	s.Reset(bytes.NewReader(nil))
	if _, _, err := s.Next(); err != io.EOF || s.Buffered() != 0 {
		t.Fatalf("after Reset: %v, %d buffered", err, s.Buffered())
	}
}

// TestStreamReaderSmallBufferGrowsOnce: a reader made small stays small while the
// frames fit, grows to MaxFrameSize for the first frame that does not, and reads every
// frame the same either way.
func TestStreamReaderSmallBufferGrowsOnce(t *testing.T) {
	small, ids, bodies := streamOf(t, "dns_get_route_request", "report_status_request", "dns_get_route_response")
	var stream []byte
	for range 100 {
		stream = append(stream, small...)
	}
	s := codec.NewStreamReader(&chunkReader{stream, rand.New(rand.NewPCG(5, 6)), 50}, 256)
	for i := range 300 {
		id, body, err := s.Next()
		if err != nil || id != ids[i%3] || !bytes.Equal(body, bodies[i%3]) {
			t.Fatalf("frame %d: %d %x %v", i, id, body, err)
		}
	}
	if got := s.BufferSize(); got != 256 {
		t.Fatalf("buffer %d bytes after small frames, want 256", got)
	}
	big := make([]byte, 5000)
	for i := range big {
		big[i] = byte(i)
	}
	frame := append(codec.AppendHeader(nil, codec.MsgReportStatusRequest, len(big)), big...)
	s.Reset(bytes.NewReader(append(append(frame, small...), frame...)))
	for i, want := range [][]byte{big, bodies[0], bodies[1], bodies[2], big} {
		_, body, err := s.Next()
		if err != nil || !bytes.Equal(body, want) {
			t.Fatalf("after growth, frame %d: %v", i, err)
		}
	}
	if got := s.BufferSize(); got != codec.MaxFrameSize {
		t.Fatalf("buffer %d bytes after a large frame, want %d", got, codec.MaxFrameSize)
	}
}
