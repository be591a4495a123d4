package codec

import (
	"fmt"
	"slices"
)

// Marshaler is what the vtprotobuf-generated messages of package larspb implement.
// Passing a pointer to an existing message as a Marshaler does not allocate.
type Marshaler interface {
	SizeVT() int
	MarshalToSizedBufferVT(dst []byte) (int, error)
}

// Unmarshaler is what the vtprotobuf-generated messages of package larspb implement.
type Unmarshaler interface {
	UnmarshalVT(body []byte) error
}

// ErrFrameTooLarge is returned when a message's body would exceed MaxBodySize.
var ErrFrameTooLarge = fmt.Errorf("message body exceeds %d bytes", MaxBodySize)

// AppendFrame appends one whole frame, header and body, carrying m as message id to dst
// and returns the extended slice. When dst has room it does not allocate. A body larger
// than MaxBodySize is refused with ErrFrameTooLarge and dst is returned unchanged.
func AppendFrame(dst []byte, id MsgID, m Marshaler) ([]byte, error) {
	size := m.SizeVT()
	if size > MaxBodySize {
		return dst, ErrFrameTooLarge
	}
	start := len(dst)
	dst = slices.Grow(dst, HeaderSize+size)
	dst = dst[:start+HeaderSize+size]
	PutHeader(dst[start:], id, size)
	if _, err := m.MarshalToSizedBufferVT(dst[start+HeaderSize:]); err != nil {
		return dst[:start], encodeError(id, err)
	}
	return dst, nil
}

// encodeError is AppendFrame's error for a message that failed to encode, kept out of
// line so that the code every frame runs stays small.
//
//go:noinline
func encodeError(id MsgID, err error) error {
	return fmt.Errorf("cannot encode %s: %w", id, err)
}

// FrameSize returns the size of the whole frame that would carry m.
func FrameSize(m Marshaler) int { return HeaderSize + m.SizeVT() }
