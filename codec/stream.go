package codec

import (
	"errors"
	"fmt"
	"io"
)

// ErrProtocol marks a TCP stream that broke the framing rules (a negative or oversized
// msglen). The connection must be closed; errors.Is also matches the Reason's sentinel.
var ErrProtocol = errors.New("lars protocol error")

// DefaultStreamBufferSize is the StreamReader buffer size when none is given: room for
// two frames of the largest size, so that a partial frame rarely forces a compaction.
const DefaultStreamBufferSize = 2 * MaxFrameSize

// StreamReader reads frames that follow each other back to back on a byte stream (the
// TCP links to the route and report services). It copes with reads that carry several
// frames or part of one, and reads through one buffer it owns and reuses, so reading
// does not allocate in steady state. It is not safe for concurrent use.
type StreamReader struct {
	r     io.Reader
	buf   []byte
	start int // first unconsumed byte of buf
	end   int // one past the last byte read into buf
}

// NewStreamReader returns a StreamReader over r with a buffer of size bytes (0 or less:
// MaxFrameSize). A buffer smaller than MaxFrameSize grows to MaxFrameSize the first
// time a frame does not fit, and keeps that size: a server with many connections that
// carry small frames pays a small buffer each.
func NewStreamReader(r io.Reader, size int) *StreamReader {
	if size <= 0 {
		size = MaxFrameSize
	}
	size = max(size, HeaderSize)
	return &StreamReader{r: r, buf: make([]byte, size)}
}

// Reset makes the reader read from r, discarding anything buffered, and keeps its buffer.
func (s *StreamReader) Reset(r io.Reader) {
	s.r, s.start, s.end = r, 0, 0
}

// BufferSize returns the size of the reader's buffer: what it holds in memory.
func (s *StreamReader) BufferSize() int { return len(s.buf) }

// Buffered returns how many bytes have been read but not yet returned as frames.
func (s *StreamReader) Buffered() int { return s.end - s.start }

// Next returns the next frame's message id and body. The body aliases the reader's
// buffer and is valid only until the next call to Next or Reset.
//
// At a clean end of stream between frames it returns io.EOF; in the middle of a frame,
// io.ErrUnexpectedEOF. A frame with a negative or oversized length returns an error
// matching ErrProtocol and the Reason's sentinel error; the stream cannot continue.
// Other read errors are returned as they are.
func (s *StreamReader) Next() (MsgID, []byte, error) {
	for {
		if avail := s.end - s.start; avail >= HeaderSize {
			id, n := ReadHeader(s.buf[s.start:])
			if r := CheckBodyLen(n); r != ReasonOK {
				return id, nil, fmt.Errorf("%w: msgid %d: %w", ErrProtocol, id, r.Err())
			}
			total := HeaderSize + int(n)
			if avail >= total {
				body := s.buf[s.start+HeaderSize : s.start+total]
				s.start += total
				return id, body, nil
			}
			if total > len(s.buf) {
				s.grow()
			}
		}
		if err := s.fill(); err != nil {
			return 0, nil, err
		}
	}
}

// grow moves the unconsumed bytes into a buffer of MaxFrameSize, which any frame fits.
func (s *StreamReader) grow() {
	buf := make([]byte, max(MaxFrameSize, len(s.buf)))
	s.end = copy(buf, s.buf[s.start:s.end])
	s.start, s.buf = 0, buf
}

// fill reads more bytes into the buffer, first moving the unconsumed tail to its front.
func (s *StreamReader) fill() error {
	if s.start > 0 {
		s.end = copy(s.buf, s.buf[s.start:s.end])
		s.start = 0
	}
	for range maxEmptyReads {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if n > 0 {
			return nil
		}
		if err != nil {
			if err == io.EOF && s.end > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return io.ErrNoProgress
}

// maxEmptyReads bounds how many times in a row a reader may return nothing and no error.
const maxEmptyReads = 100
