package codec_test

import (
	pb "github.com/larsgo/lars/codec/larspb"
)

// route10 is a GetRouteResponse of 10 hosts, half of them above 128.0.0.0.
func route10() *pb.GetRouteResponse {
	m := &pb.GetRouteResponse{Modid: 10, Cmdid: 20}
	for i := range 10 {
		ip := int32(0x0a000001 + i)
		if i%2 == 1 {
			ip = -1062731519 + int32(i)
		}
		m.Host = append(m.Host, &pb.HostInfo{Ip: ip, Port: int32(7000 + i)})
	}
	return m
}

// loopReader returns its data over and over, chunk bytes at a time, forever.
type loopReader struct {
	data  []byte
	off   int
	chunk int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && n < l.chunk {
		c := copy(p[n:min(len(p), l.chunk)], l.data[l.off:])
		n += c
		l.off = (l.off + c) % len(l.data)
	}
	return n, nil
}
