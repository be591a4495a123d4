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
	ip, port, _ := r.Host.Wire() // IPv4: reports carry nothing else
	return rowKey{r.Key.Modid, r.Key.Cmdid, ip, port, r.Caller}
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
	pushQueued    pushResult = iota // a new row joined the queue
	pushCoalesced                   // the row replaced the queued row of its key
	// pushDroppedOwn: the row joined the full queue, which dropped the oldest row of
	// the same owner, holding at least an equal share of the queue.
	pushDroppedOwn
	// pushDroppedHeaviest: the row joined the full queue, whose owner holds less than
	// an equal share, and the oldest row of the owner holding the most was dropped.
	pushDroppedHeaviest
)

// owner names who queued a row: each connection is one (newConn numbers them from 1);
// putBackOwner holds the rows a failed write put back.
type owner uint32

const putBackOwner owner = 0

// minSlots is the fewest slots a shard allocates; the slots grow by doubling up to the
// shard's bound, and are given back once a burst is written (shrinkAbove).
const (
	minSlots    = 64
	shrinkAbove = 4096
)

// noSlot ends a list of slots.
const noSlot int32 = -1

// slot holds one queued row, linked in two lists: the shard's (oldest first: the order
// rows are written in) and its owner's (oldest first: the order its rows are dropped
// in). A free slot is linked through next alone.
type slot struct {
	row          store.CallStatus
	owner        owner
	prev, next   int32
	oprev, onext int32
}

// ownerRows is an owner's list of queued rows in a shard.
type ownerRows struct {
	head, tail int32
	n          int
}

// shard is one worker's part of the queue: the latest status of each row whose key
// hashes to it, in the order the rows were first queued. A newer status for a queued
// row replaces it in place, so a row is never queued twice and keeps its place.
//
// When the shard is full, a new row takes the place of a row of the owner that holds
// too much of it: the pusher's own oldest row if it holds at least an equal share
// (bound / owners), else the oldest row of the owner holding the most. A connection
// that floods pushes out its own rows, not the rows of the agents that report at
// their pace; with one owner, this is the oldest row, as a plain ring would drop.
type shard struct {
	mu         sync.Mutex // guards every field below but ready and depth
	index      map[rowKey]int32
	slots      []slot
	free       int32 // first free slot
	head, tail int32 // oldest and newest queued rows
	n          int   // rows queued
	bound      int   // the most rows queued at once
	owners     map[owner]ownerRows
	heavy      owner // an owner holding many rows: the first candidate to drop from

	ready chan struct{} // one token: the shard went from empty to not empty
	depth atomic.Int64  // n, for metrics without the lock
}

func newShard(bound int) *shard {
	return &shard{
		index:  make(map[rowKey]int32),
		owners: make(map[owner]ownerRows),
		free:   noSlot,
		head:   noSlot,
		tail:   noSlot,
		bound:  bound,
		ready:  make(chan struct{}, 1),
	}
}

// push queues r for its owner o, replacing the queued row of its key if there is one
// (the row keeps its place and its first owner: an agent that reconnected), or making
// room when the shard is full (see shard). It never
// blocks on anything but the shard's lock, which takers hold only to copy rows out,
// and it does not allocate when r's key is queued already.
func (s *shard) push(r *store.CallStatus, o owner) pushResult {
	k := keyOf(r)
	s.mu.Lock()
	if i, ok := s.index[k]; ok {
		s.slots[i].row = *r
		s.mu.Unlock()
		return pushCoalesced
	}
	res := pushQueued
	if s.n == s.bound {
		victim, own := s.victim(o)
		s.remove(victim)
		res = pushDroppedHeaviest
		if own {
			res = pushDroppedOwn
		}
	}
	i := s.alloc()
	s.slots[i] = slot{row: *r, owner: o, prev: s.tail, next: noSlot}
	if s.tail == noSlot {
		s.head = i
	} else {
		s.slots[s.tail].next = i
	}
	s.tail = i
	s.linkOwner(i, false)
	s.index[k] = i
	s.n++
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

// victim returns the row to drop from the full shard for a row of o, and whether it
// is o's own. The caller holds s.mu.
func (s *shard) victim(o owner) (i int32, own bool) {
	mine, ok := s.owners[o]
	owners := len(s.owners)
	if !ok {
		owners++
	}
	if mine.n*owners >= s.bound {
		return mine.head, true
	}
	// o holds less than an equal share, so another owner holds more than one.
	if h, ok := s.owners[s.heavy]; ok && h.n*owners > s.bound {
		return h.head, false
	}
	best := -1
	for id, rows := range s.owners {
		if rows.n > best {
			best, s.heavy = rows.n, id
		}
	}
	return s.owners[s.heavy].head, false
}

// alloc returns a free slot, growing the slots when none is. The caller holds s.mu
// and s.n < s.bound.
func (s *shard) alloc() int32 {
	if s.free == noSlot {
		s.grow()
	}
	i := s.free
	s.free = s.slots[i].next
	return i
}

// grow doubles the slots (from minSlots, up to the bound), keeping every queued row
// in its slot, and links the new ones as free. The caller holds s.mu.
func (s *shard) grow() {
	old := len(s.slots)
	slots := make([]slot, min(max(minSlots, 2*old), max(s.bound, old+1)))
	copy(slots, s.slots)
	for i := len(slots) - 1; i >= old; i-- {
		slots[i].next = s.free
		s.free = int32(i)
	}
	s.slots = slots
}

// linkOwner links slot i into its owner's list, at the tail (newest) or, with front,
// at the head (oldest). The caller holds s.mu.
func (s *shard) linkOwner(i int32, front bool) {
	sl := &s.slots[i]
	rows, ok := s.owners[sl.owner]
	switch {
	case !ok || rows.n == 0:
		sl.oprev, sl.onext = noSlot, noSlot
		rows.head, rows.tail = i, i
	case front:
		sl.oprev, sl.onext = noSlot, rows.head
		s.slots[rows.head].oprev = i
		rows.head = i
	default:
		sl.oprev, sl.onext = rows.tail, noSlot
		s.slots[rows.tail].onext = i
		rows.tail = i
	}
	rows.n++
	s.owners[sl.owner] = rows
	if sl.owner != s.heavy && rows.n > s.owners[s.heavy].n {
		s.heavy = sl.owner
	}
}

// unlinkOwner takes slot i out of its owner's list, forgetting an owner left with no
// row. The caller holds s.mu.
func (s *shard) unlinkOwner(i int32) {
	sl := &s.slots[i]
	rows := s.owners[sl.owner]
	if rows.n == 1 {
		delete(s.owners, sl.owner)
		return
	}
	if sl.oprev == noSlot {
		rows.head = sl.onext
	} else {
		s.slots[sl.oprev].onext = sl.onext
	}
	if sl.onext == noSlot {
		rows.tail = sl.oprev
	} else {
		s.slots[sl.onext].oprev = sl.oprev
	}
	rows.n--
	s.owners[sl.owner] = rows
}

// remove takes the row of slot i out of the shard and frees the slot. The caller holds
// s.mu.
func (s *shard) remove(i int32) {
	sl := &s.slots[i]
	delete(s.index, keyOf(&sl.row))
	s.unlinkOwner(i)
	if sl.prev == noSlot {
		s.head = sl.next
	} else {
		s.slots[sl.prev].next = sl.next
	}
	if sl.next == noSlot {
		s.tail = sl.prev
	} else {
		s.slots[sl.next].prev = sl.prev
	}
	sl.next = s.free
	s.free = i
	s.n--
}

// take moves up to limit of the oldest rows to dst (appended) and returns it. Once the
// shard is empty after a burst that grew it past shrinkAbove rows, its slots and maps
// are given back to the garbage collector.
func (s *shard) take(dst []store.CallStatus, limit int) []store.CallStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range min(s.n, limit) {
		dst = append(dst, s.slots[s.head].row)
		s.remove(s.head)
	}
	if s.n == 0 && len(s.slots) > shrinkAbove {
		s.reset()
	}
	s.depth.Store(int64(s.n))
	return dst
}

// reset empties the shard, giving its slots and maps back. The caller holds s.mu.
func (s *shard) reset() {
	s.slots, s.free, s.head, s.tail, s.n = nil, noSlot, noSlot, noSlot, 0
	s.index, s.owners = make(map[rowKey]int32), make(map[owner]ownerRows)
}

// putBack puts rows that failed to be written back in front of the queue, as its
// oldest, in their order, while there is room; they belong to putBackOwner. A row
// whose key was queued again meanwhile is not put back: the queued one is newer. It
// returns how many rows were put back and how many were superseded; the rest did not
// fit.
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
		j := s.alloc()
		s.slots[j] = slot{row: rows[i], owner: putBackOwner, prev: noSlot, next: s.head}
		if s.head == noSlot {
			s.tail = j
		} else {
			s.slots[s.head].prev = j
		}
		s.head = j
		s.linkOwner(j, true)
		s.index[k] = j
		s.n++
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
	s.reset()
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
