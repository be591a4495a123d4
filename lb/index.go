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
	slots []atomic.Pointer[keyState]
	mask  uint64
}

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
	return &index{slots: make([]atomic.Pointer[keyState], n), mask: uint64(n - 1)}
}

// get returns the key's state or nil. h is hashKey(key) already shifted past the
// shard bits. Lock-free.
func (ix *index) get(key, h uint64) *keyState {
	for i := h & ix.mask; ; i = (i + 1) & ix.mask {
		ks := ix.slots[i].Load()
		if ks == nil {
			return nil
		}
		if ks.key == key && ks != tombstone {
			return ks
		}
	}
}

// insert adds ks, which the shard does not hold. The caller holds sh.mu.
func (sh *shard) insert(ks *keyState, h uint64) {
	ix := sh.idx.Load()
	if (sh.used+1)*2 > len(ix.slots) {
		ix = sh.rebuild(sh.live + 1)
	}
	for i := h & ix.mask; ; i = (i + 1) & ix.mask {
		if ix.slots[i].Load() == nil {
			ix.slots[i].Store(ks)
			sh.live++
			sh.used++
			return
		}
	}
}

// remove deletes ks if the shard holds it, reporting whether it did. The caller holds
// sh.mu.
func (sh *shard) remove(ks *keyState, h uint64) bool {
	ix := sh.idx.Load()
	for i := h & ix.mask; ; i = (i + 1) & ix.mask {
		p := ix.slots[i].Load()
		if p == nil {
			return false
		}
		if p == ks {
			ix.slots[i].Store(tombstone)
			sh.live--
			return true
		}
	}
}

// rebuild publishes a new index holding the live keys with room for want keys at a
// load of at most a quarter, and returns it. The caller holds sh.mu.
func (sh *shard) rebuild(want int) *index {
	n := minSlots
	for n < want*4 {
		n *= 2
	}
	old := sh.idx.Load()
	ix := newIndex(n)
	for i := range old.slots {
		ks := old.slots[i].Load()
		if ks == nil || ks == tombstone {
			continue
		}
		for j := ks.hash & ix.mask; ; j = (j + 1) & ix.mask {
			if ix.slots[j].Load() == nil {
				ix.slots[j].Store(ks)
				break
			}
		}
	}
	sh.used = sh.live
	sh.idx.Store(ix)
	return ix
}

// each calls f for every key of the shard's current index, without a lock.
func (sh *shard) each(f func(*keyState)) {
	ix := sh.idx.Load()
	for i := range ix.slots {
		if ks := ix.slots[i].Load(); ks != nil && ks != tombstone {
			f(ks)
		}
	}
}
