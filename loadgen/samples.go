package loadgen

import "sync/atomic"

// Latency samples are kept exactly, one uint32 of nanoseconds per answer, in chunks.
// The receiver that owns a store never allocates: when its chunk is full it takes a
// spare one from a channel that the run's housekeeping goroutine keeps filled. Were
// the spares ever to run out, the sample is counted as dropped and the report falls
// back to the histogram (and says so).
const (
	chunkSize   = 16 << 10
	spareChunks = 4
	maxChunks   = 1 << 14 // 268M samples a store; the chunk list is preallocated
)

type sampleStore struct {
	cur     []uint32
	full    [][]uint32
	spare   chan []uint32
	dropped atomic.Uint64
}

func newSampleStore() *sampleStore {
	s := &sampleStore{
		cur:   make([]uint32, 0, chunkSize),
		full:  make([][]uint32, 0, 1024),
		spare: make(chan []uint32, spareChunks),
	}
	s.refill()
	return s
}

// add records one latency; owner goroutine only.
func (s *sampleStore) add(v uint32) {
	if len(s.cur) == cap(s.cur) {
		if len(s.full) == maxChunks {
			s.dropped.Add(1)
			return
		}
		select {
		case c := <-s.spare:
			s.full = append(s.full, s.cur) // grows only past 1024 chunks (16M samples)
			s.cur = c[:0]
		default:
			s.dropped.Add(1)
			return
		}
	}
	s.cur = append(s.cur, v)
}

// refill tops up the spare chunks; any goroutine.
func (s *sampleStore) refill() {
	for len(s.spare) < cap(s.spare) {
		select {
		case s.spare <- make([]uint32, 0, chunkSize):
		default:
			return
		}
	}
}

// appendTo appends the samples, in microseconds, to dst; once the owner has stopped.
func (s *sampleStore) appendTo(dst []float64) []float64 {
	for _, c := range s.full {
		for _, v := range c {
			dst = append(dst, float64(v)/1e3)
		}
	}
	for _, v := range s.cur {
		dst = append(dst, float64(v)/1e3)
	}
	return dst
}
