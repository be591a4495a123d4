package codec

import (
	"encoding/binary"
	"errors"
)

// HeaderSize is the size of the frame header: msgid and msglen, int32 little-endian each.
const HeaderSize = 8

// MaxBodySize is the largest body a frame may carry: a UDP datagram's 65535 bytes less
// the header. The same limit applies to TCP frames.
const MaxBodySize = 65535 - HeaderSize

// MaxFrameSize is the largest whole frame, header included.
const MaxFrameSize = HeaderSize + MaxBodySize

// Reason says why a frame was rejected. The zero value, ReasonOK, means it was accepted.
// Callers count rejections by Reason; String gives a stable metric label.
type Reason uint8

// Reasons a datagram or stream frame is rejected.
const (
	ReasonOK             Reason = iota // accepted
	ReasonTooShort                     // fewer than HeaderSize bytes
	ReasonNegativeLength               // msglen < 0
	ReasonTooLarge                     // msglen > MaxBodySize
	ReasonLengthMismatch               // HeaderSize + msglen != datagram length
	numReasons
)

// NumReasons is the number of Reason values, ReasonOK included, for sizing counter arrays.
const NumReasons = int(numReasons)

// Sentinel errors, one per rejection reason, for callers that branch with errors.Is.
var (
	ErrTooShort       = errors.New("frame shorter than its 8-byte header")
	ErrNegativeLength = errors.New("frame length is negative")
	ErrTooLarge       = errors.New("frame length exceeds 65527 bytes")
	ErrLengthMismatch = errors.New("frame length does not match datagram length")
)

// String returns the reason's metric label.
func (r Reason) String() string {
	switch r {
	case ReasonOK:
		return "ok"
	case ReasonTooShort:
		return "too_short"
	case ReasonNegativeLength:
		return "negative_length"
	case ReasonTooLarge:
		return "too_large"
	case ReasonLengthMismatch:
		return "length_mismatch"
	}
	return "unknown"
}

// Err returns the sentinel error for the reason, nil for ReasonOK.
func (r Reason) Err() error {
	switch r {
	case ReasonOK:
		return nil
	case ReasonTooShort:
		return ErrTooShort
	case ReasonNegativeLength:
		return ErrNegativeLength
	case ReasonTooLarge:
		return ErrTooLarge
	case ReasonLengthMismatch:
		return ErrLengthMismatch
	}
	return errors.New("unknown frame rejection reason")
}

// ReadHeader decodes the 8-byte header at the start of b, which must hold at least
// HeaderSize bytes.
func ReadHeader(b []byte) (id MsgID, bodyLen int32) {
	_ = b[HeaderSize-1]
	return MsgID(int32(binary.LittleEndian.Uint32(b))), int32(binary.LittleEndian.Uint32(b[4:]))
}

// CheckBodyLen reports whether a header's msglen is acceptable on its own, before the
// body is seen.
func CheckBodyLen(bodyLen int32) Reason {
	switch {
	case bodyLen < 0:
		return ReasonNegativeLength
	case bodyLen > MaxBodySize:
		return ReasonTooLarge
	}
	return ReasonOK
}

// ParseDatagram splits one UDP datagram into its message id and body, applying every
// validation rule of the protocol. The body aliases b. A rejected datagram must be
// dropped and never answered; the Reason says which rule it broke. The message id is
// not checked: unknown ids are the caller's to count.
func ParseDatagram(b []byte) (id MsgID, body []byte, r Reason) {
	if len(b) < HeaderSize {
		return 0, nil, ReasonTooShort
	}
	id, n := ReadHeader(b)
	if r = CheckBodyLen(n); r != ReasonOK {
		return id, nil, r
	}
	if HeaderSize+int(n) != len(b) {
		return id, nil, ReasonLengthMismatch
	}
	return id, b[HeaderSize:], ReasonOK
}

// PutHeader writes a header for id and bodyLen into the first HeaderSize bytes of b.
func PutHeader(b []byte, id MsgID, bodyLen int) {
	_ = b[HeaderSize-1]
	binary.LittleEndian.PutUint32(b, uint32(id))
	binary.LittleEndian.PutUint32(b[4:], uint32(int32(bodyLen)))
}

// AppendHeader appends a header for id and bodyLen to dst.
func AppendHeader(dst []byte, id MsgID, bodyLen int) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(id))
	return binary.LittleEndian.AppendUint32(dst, uint32(int32(bodyLen)))
}
