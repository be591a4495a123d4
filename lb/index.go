package lb

import (
	"sync"
	"sync/atomic"
)

// index is one shard's open-addressing hash table of keys with linear probing. Its
// slots are atomic so that readers probe it without a lock while the shard's writer
// inserts (store into an empty slot) or deletes (store the tombstone). A writer that
// needs more room builds a larger index and publishes it; readers still on the old one
// may miss a key inserted since (they then take the slow path, which looks again under
// the lock) or find one deleted since (it is marked removed and answers nothing).
type index struct {
	slots []slot
	mask  uint64
}

// slot is one entry of an index: a key, its keyState, and the state a pick needs,
// so that GetHost on a key whose hosts are all idle reads one random place in memory
// (this slot, two adjacent cache lines) and nothing else. Following a pointer to the
// key's state would cost a second dependent cache miss (and TLB miss) on every call
// once the table outgrows the caches, and the atomic add of the round-robin counter,
// a full barrier on amd64, keeps the next call from overlapping that miss.
//
// key is stored before ks and never changes once ks is non-nil (deletion stores the
// tombstone into ks and keeps key), so a reader that loads a non-nil ks then reads the
// key that goes with it; probes compare keys without dereferencing anything.
//
// rr is the key's idle round-robin counter itself; refreshAt and the inline idle set
// are copies of the keyState's, written under the shard's mu by Table.mirror after
// every change (and by put when a rebuild moves the slot). The inline set is a
// seqlock: fast holds a version and the number n of inline hosts, n == 0 while a
// writer rewrites them or when the key does not qualify (a host overloaded, no
// hosts, more than inlineIdle). A reader that sees n == 0, or finds fast changed
// after reading its host, picks from the keyState's snapshot instead, so readers never
// wait and never retry.
//
// A rebuild copies rr into the new index; a picker still on the old index may move
// the old copy meanwhile, which only a pick concurrent with the creation of another
// key of the shard can do: the next pick on the new index may then repeat a host.
//
// rr is in the first line with everything a pick of up to 3 hosts reads: the locked
// add waits for the line, and a second line there would be a second serial miss
// (measured 10-15% slower at 100,000 keys). The price: a core's next-line prefetch
// of a neighbouring slot can pull this line away from the core picking this key,
// which shows on small, cache-resident tables picked from two cores.
type slot struct {
	key       atomic.Uint64
	ks        atomic.Pointer[keyState]
	fast      atomic.Uint64 // version<<32 | n, see above
	refreshAt atomic.Int64  // copy of keyState.refreshAt
	inline    [inlineIdle]atomic.Uint64
	// rr, the picks from the key's idle set so far, is the one word every pick writes.
	// It sits in the slot's second cache line, away from key and ks, which lookups of
	// other keys read when their probes pass this slot: on the first line, those reads
	// would keep pulling the line away from the core that picks this key.
	rr atomic.Uint64
}

// inlineIdle is the number of idle hosts a slot holds (Host.pack): as many as fill
// the slot to 128 bytes, two cache lines in one 128-byte aligned pair.
const inlineIdle = 11

// tombstone marks a deleted slot: probes continue past it, inserts do not reuse it
// (the next rebuild drops it).
var tombstone = new(keyState)

// minSlots is the size of a new shard's index.
const minSlots = 8

// shard is a slice of the table's keys, chosen by the low bits of the key's hash.
type shard struct {
	mu   sync.Mutex // serializes inserts, deletes and rebuilds of idx
	idx  atomic.Pointer[index]
	live int // keys in idx; guarded by mu
	used int // live keys plus tombstones; guarded by mu
	_    [32]byte
}

// hashKey mixes a packed key (the splitmix64 finalizer) so that consecutive modids or
// cmdids spread over shards and slots.
func hashKey(k uint64) uint64 {
	k ^= k >> 30
	k *= 0xbf58476d1ce4e5b9
	k ^= k >> 27
	k *= 0x94d049bb133111eb
	k ^= k >> 31
	return k
}

func newIndex(n int) *index {
	return &index{slots: make([]slot, n), mask: uint64(n - 1)}
}

// get returns the key's slot and state, or nil, nil. h is hashKey(key) already
// shifted past the shard bits. Lock-free.
func (ix *index) get(key, h uint64) (*slot, *keyState) {
	for i := h & ix.mask; ; i = (i + 1) & ix.mask {
		sl := &ix.slots[i]
		ks := sl.ks.Load()
		if ks == nil {
			return nil, nil
		}
		if sl.key.Load() == key && ks != tombstone {
			return sl, ks
		}
	}
}

// slotOf returns the slot holding ks, or nil. The caller holds the shard's mu.
func (ix *index) slotOf(ks *keyState) *slot {
	for i := ks.hash & ix.mask; ; i = (i + 1) & ix.mask {
		sl := &ix.slots[i]
		switch sl.ks.Load() {
		case nil:
			return nil
		case ks:
			return sl
		}
	}
}

// put stores ks into the first empty slot of its probe sequence, with rr as its
// round-robin counter. The caller holds the shard's mu (or owns ix before publishing
// it) and ks.mu or owns ks.
func (ix *index) put(ks *keyState, rr uint64) {
	for i := ks.hash & ix.mask; ; i = (i + 1) & ix.mask {
		sl := &ix.slots[i]
		if sl.ks.Load() == nil {
			sl.key.Store(ks.key)
			sl.rr.Store(rr)
			sl.load(ks)
			sl.ks.Store(ks)
			return
		}
	}
}

// load copies the key's refreshAt and inline idle set into the slot. The caller holds
// the shard's mu (or owns the slot's index before publishing it).
func (sl *slot) load(ks *keyState) {
	sl.refreshAt.Store(ks.refreshAt.Load())
	s := ks.sets.Load()
	v := sl.fast.Load()>>32 + 1
	sl.fast.Store(v << 32) // pickers now take the snapshot until the copy is complete
	if n := len(s.idle); n > 0 && n <= inlineIdle && len(s.over) == 0 {
		for i, h := range s.idle {
			sl.inline[i].Store(h.pack())
		}
		sl.fast.Store((v+1)<<32 | uint64(n))
	}
}

// insert adds ks, which the shard does not hold. The caller holds sh.mu.
func (sh *shard) insert(ks *keyState) {
	ix := sh.idx.Load()
	if (sh.used+1)*4 > len(ix.slots)*3 {
		ix = sh.rebuild(sh.live + 1)
	}
	ix.put(ks, 0)
	sh.live++
	sh.used++
}

// remove deletes ks if the shard holds it, reporting whether it did. The caller holds
// sh.mu.
func (sh *shard) remove(ks *keyState) bool {
	ix := sh.idx.Load()
	for i := ks.hash & ix.mask; ; i = (i + 1) & ix.mask {
		p := ix.slots[i].ks.Load()
		if p == nil {
			return false
		}
		if p == ks {
			ix.slots[i].ks.Store(tombstone)
			sh.live--
			return true
		}
	}
}

// rebuild publishes a new index holding the live keys with room for want keys at a
// load of at most a half, and returns it. The caller holds sh.mu.
//
// Indexes grow at a load of three quarters to a load of at most a half: with the key
// inline in its slot, a probe past a colliding key reads the next slot, adjacent in
// memory, never the colliding key's state; and the denser the index, the more of it
// stays in the CPU caches and TLB. A slot is 128 bytes, 1.3 to 2.7 slots a key.
func (sh *shard) rebuild(want int) *index {
	n := minSlots
	for n < want*2 {
		n *= 2
	}
	old := sh.idx.Load()
	ix := newIndex(n)
	for i := range old.slots {
		ks := old.slots[i].ks.Load()
		if ks == nil || ks == tombstone {
			continue
		}
		ix.put(ks, old.slots[i].rr.Load())
	}
	sh.used = sh.live
	sh.idx.Store(ix)
	return ix
}

// each calls f for every key of the shard's current index, without a lock.
func (sh *shard) each(f func(*keyState)) {
	ix := sh.idx.Load()
	for i := range ix.slots {
		if ks := ix.slots[i].ks.Load(); ks != nil && ks != tombstone {
			f(ks)
		}
	}
}
