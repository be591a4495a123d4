package reportsvc

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/vectors"
)

// FuzzConnFrames feeds any bytes to a connection's reader as an agent would send them:
// it must never panic, every result it reads is queued, replaced or dropped, the queue
// stays within its bound, and the connection ends only at the end of the bytes or at a
// bad frame.
func FuzzConnFrames(f *testing.F) {
	f.Add(vectors.Frame("report_status_request"))
	f.Add(append(vectors.Frame("report_status_request"), vectors.Frame("report_status_request")...))
	f.Add([]byte{3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})       // negative length
	f.Add([]byte{3, 0, 0, 0, 2, 0, 0, 0, 0x08, 0x80})       // truncated varint
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 0})                   // empty report
	f.Add([]byte{3, 0, 0, 0, 4, 0, 0})                      // cut header
	f.Add([]byte{3, 0, 0, 0, 4, 0, 0, 0, 0x22, 0x02, 0x08}) // result cut short
	f.Add(vectors.Frame("dns_get_route_request"))
	f.Fuzz(func(t *testing.T, data []byte) {
		svc, err := New(Config{Store: nopStore{}, QueueSize: 16, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		c := newConn(svc, a)
		c.sr = codec.NewStreamReader(bytes.NewReader(data), readBufferSize)
		err = c.readLoop()
		if !errors.Is(err, errBadFrame) && err != io.EOF && err != io.ErrUnexpectedEOF {
			t.Fatalf("readLoop ended with %v", err)
		}
		st := svc.Stats()
		if st.QueueRows > 16 {
			t.Fatalf("queue holds %d rows, bound 16", st.QueueRows)
		}
		if uint64(st.QueueRows)+st.Coalesced+st.DroppedQueueFull+st.DroppedUnknownKey != st.Results {
			t.Fatalf("results unaccounted for: %+v", st)
		}
	})
}
