package reportsvc

import (
	"sync"
	"sync/atomic"

	"github.com/larsgo/lars/store"
)

// rowKey is ServerCallStatus's primary key.
type rowKey struct {
	modid, cmdid, ip, port, caller int32
}

func keyOf(r *store.CallStatus) rowKey {
	return rowKey{r.Key.Modid, r.Key.Cmdid, r.Host.IP, r.Host.Port, r.Caller}
}

// hash spreads keys over the shards (murmur3's 64-bit finaliser over the key's bits).
func (k rowKey) hash() uint64 {
	h := uint64(uint32(k.modid))<<32 | uint64(uint32(k.cmdid))
	h ^= (uint64(uint32(k.ip))<<32 | uint64(uint32(k.port))) * 0x9e3779b97f4a7c15
	h ^= uint64(uint32(k.caller)) * 0xc2b2ae3d27d4eb4f
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// pushResult says what push did with a row.
type pushResult uint8

const (
	pushQueued     pushResult = iota // a new row joined the queue
	pushCoalesced                    // the row replaced the queued row of its key
	pushDroppedOld                   // the row joined the queue, which dropped its oldest row to make room
)

// minRing is the smallest ring a shard allocates; rings grow by doubling up to the
// shard's bound, and shrink back once a burst is written (shrinkAbove).
const (
	minRing     = 64
	shrinkAbove = 4096
)

// firstSeq is the sequence number of a shard's first row: far from 0, so rows put back
// in front of the oldest can take smaller numbers without wrapping.
const firstSeq = 1 << 62

// shard is one worker's part of the queue: the latest status of each row whose key
// hashes to it, in the order the rows were first queued. A newer status for a queued
// row replaces it in place, so a row is never queued twice and keeps its place.
// Rows leave only from the front (oldest first), to be written or dropped, so the ring
// holds no holes.
type shard struct {
	mu sync.Mutex // guards every field below but ready and depth
	// index maps a queued row's key to its sequence number: the ring position of a
	// sequence number s is head + (s - headSeq), modulo len(ring).
	index   map[rowKey]uint64
	ring    []store.CallStatus // len is 0 or a power of two
	head    int                // ring position of the oldest row
	headSeq uint64             // sequence number of the oldest row
	n       int                // rows queued
	bound   int                // the most rows queued at once

	ready chan struct{} // one token: the shard went from empty to not empty
	depth atomic.Int64  // n, for metrics without the lock
}

func newShard(bound int) *shard {
	return &shard{
		index:   make(map[rowKey]uint64),
		headSeq: firstSeq,
		bound:   bound,
		ready:   make(chan struct{}, 1),
	}
}

// pos is the ring position of sequence number seq.
func (s *shard) pos(seq uint64) int {
	return (s.head + int(seq-s.headSeq)) & (len(s.ring) - 1)
}

// push queues r, replacing the queued row of its key if there is one, or dropping the
// oldest row when the shard is full. It never blocks on anything but the shard's
// lock, which takers hold only to copy rows out, and it does not allocate when r's
// key is queued already.
func (s *shard) push(r *store.CallStatus) pushResult {
	k := keyOf(r)
	s.mu.Lock()
	if seq, ok := s.index[k]; ok {
		s.ring[s.pos(seq)] = *r
		s.mu.Unlock()
		return pushCoalesced
	}
	res := pushQueued
	if s.n == s.bound {
		s.popOldest()
		res = pushDroppedOld
	}
	if s.n == len(s.ring) {
		s.grow()
	}
	seq := s.headSeq + uint64(s.n)
	s.n++
	s.ring[s.pos(seq)] = *r
	s.index[k] = seq
	wake := s.n == 1
	s.depth.Store(int64(s.n))
	s.mu.Unlock()
	if wake {
		select {
		case s.ready <- struct{}{}:
		default:
		}
	}
	return res
}

// popOldest removes the oldest row. The caller holds s.mu and s.n > 0.
func (s *shard) popOldest() {
	delete(s.index, keyOf(&s.ring[s.head]))
	s.head = (s.head + 1) & (len(s.ring) - 1)
	s.headSeq++
	s.n--
}

// grow doubles the ring (from minRing), keeping the rows' order; sequence numbers do
// not change. The caller holds s.mu.
func (s *shard) grow() {
	ring := make([]store.CallStatus, max(minRing, 2*len(s.ring)))
	s.copyRows(ring)
	s.ring, s.head = ring, 0
}

// copyRows copies the queued rows, oldest first, to dst. The caller holds s.mu.
func (s *shard) copyRows(dst []store.CallStatus) {
	if s.n == 0 {
		return
	}
	if end := s.head + s.n; end <= len(s.ring) {
		copy(dst, s.ring[s.head:end])
	} else {
		k := copy(dst, s.ring[s.head:])
		copy(dst[k:], s.ring[:end-len(s.ring)])
	}
}

// take moves up to limit of the oldest rows to dst (appended) and returns it. Once the
// shard is empty after a burst that grew it past shrinkAbove rows, its ring and index
// are given back to the garbage collector.
func (s *shard) take(dst []store.CallStatus, limit int) []store.CallStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range min(s.n, limit) {
		dst = append(dst, s.ring[s.head])
		s.popOldest()
	}
	if s.n == 0 && len(s.ring) > shrinkAbove {
		s.ring, s.head, s.index = nil, 0, make(map[rowKey]uint64)
	}
	s.depth.Store(int64(s.n))
	return dst
}

// putBack puts rows that failed to be written back in front of the queue, as its
// oldest, in their order, while there is room. A row whose key was queued again
// meanwhile is not put back: the queued one is newer. It returns how many rows were
// put back and how many were superseded; the rest did not fit.
func (s *shard) putBack(rows []store.CallStatus) (requeued, superseded int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(rows) - 1; i >= 0; i-- {
		k := keyOf(&rows[i])
		if _, ok := s.index[k]; ok {
			superseded++
			continue
		}
		if s.n == s.bound {
			continue
		}
		if s.n == len(s.ring) {
			s.grow()
		}
		s.head = (s.head - 1) & (len(s.ring) - 1)
		s.headSeq--
		s.n++
		s.ring[s.head] = rows[i]
		s.index[k] = s.headSeq
		requeued++
	}
	s.depth.Store(int64(s.n))
	return requeued, superseded
}

// discard empties the shard and returns how many rows it held.
func (s *shard) discard() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.n
	s.ring, s.head, s.n, s.index = nil, 0, 0, make(map[rowKey]uint64)
	s.depth.Store(0)
	return n
}

// queue is the service's coalescing queue: one shard per worker.
type queue struct {
	shards []*shard
}

// newQueue splits bound rows over n shards (n <= bound).
func newQueue(n, bound int) *queue {
	q := &queue{shards: make([]*shard, n)}
	for i := range q.shards {
		share := bound / n
		if i < bound%n {
			share++
		}
		q.shards[i] = newShard(share)
	}
	return q
}

// shardOf returns the shard of r's key.
func (q *queue) shardOf(r *store.CallStatus) *shard {
	return q.shards[keyOf(r).hash()%uint64(len(q.shards))]
}

// depth returns the rows queued over every shard.
func (q *queue) depth() int64 {
	var n int64
	for _, s := range q.shards {
		n += s.depth.Load()
	}
	return n
}
