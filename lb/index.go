package lb

import (
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"
)

// index is one shard's open-addressing hash table of keys with linear probing. Its
// slots are atomic so that readers probe it without a lock while the shard's writer
// inserts (store into an empty slot) or deletes (store the tombstone). A writer that
// needs more room builds a larger index and publishes it; readers still on the old one
// may miss a key inserted since (they then take the slow path, which looks again under
// the lock) or find one deleted since (it is marked removed and answers nothing).
//
// Probes walk tags, not slots: tags[i] is a fingerprint of the hash of the key in
// slots[i] (tagEmpty for an empty slot, tagDeleted for a tombstone), so a lookup reads
// a slot only where the fingerprint matches, its key's slot and, once in 2^32 probe
// steps, another's. Probing the slots themselves would read the first line of every
// slot passed, and the CPU's adjacent-line prefetch would then pull the slot's other
// line, holding the rr every pick of that key writes, away from the core picking it.
// tags is written only under the shard's mu (insert, delete) or before publishing, so
// its lines stay shared in every core's cache; 4 bytes a slot, 600 KB at 100,000 keys.
//
// A slot's key and ks are stored before its tag is, so a reader that sees a key's tag
// finds the key and ks that go with it.
type index struct {
	tags  []atomic.Uint32
	slots []slot
	mask  uint64
}

// Tags of empty and deleted slots; tagOf never returns them.
const (
	tagEmpty   = 0
	tagDeleted = 1
)

// tagOf returns the fingerprint of a slot hash (hashKey past the shard bits): its
// high 32 bits after a multiply that mixes every bit of h into them.
func tagOf(h uint64) uint32 {
	t := uint32((h * 0x9e3779b97f4a7c15) >> 32)
	if t <= tagDeleted {
		t += 2
	}
	return t
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
// key that goes with it; probes compare keys without dereferencing anything, and only
// in slots whose tag (index.tags) matches the key's.
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
// rr stays in the slot's 128-byte aligned pair of lines (makeSlots aligns them), which
// the CPU fetches together: a separate pair for it would be a second serial miss, the
// locked add waiting for it (measured 2.7 times slower at 100,000 keys). The pair is
// this key's alone: probes read index.tags, so no other key's lookup fetches it.
type slot struct {
	key       atomic.Uint64
	ks        atomic.Pointer[keyState]
	fast      atomic.Uint64 // version<<32 | n, see above
	refreshAt atomic.Int64  // copy of keyState.refreshAt
	inline    [inlineIdle]atomic.Uint64
	// rr, the picks from the key's idle set so far, is the one word every pick writes.
	// Lookups of other keys probe index.tags, not this slot, so they do not pull its
	// lines away from the core that picks this key (but on a fingerprint collision).
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
	return &index{tags: make([]atomic.Uint32, n), slots: makeSlots(n), mask: uint64(n - 1)}
}

// slotAlign is the alignment of an index's slots: a slot is one 128-byte aligned pair
// of cache lines.
const slotAlign = unsafe.Sizeof(slot{})

// makeSlots returns n zero slots, 128-byte aligned if it can. A slot holds a pointer,
// and the runtime puts an 8-byte header in front of such an object of 512 bytes to
// 32 KiB: make([]slot, n) then starts 8 bytes past a 128-byte boundary, every slot
// straddles two pairs of lines, and a slot's rr shares a line with the next slot's key.
// Such an array is allocated behind a leading pad instead, as a type the collector
// scans like the slots it holds.
func makeSlots(n int) []slot {
	s := make([]slot, n)
	mis := uintptr(unsafe.Pointer(&s[0])) % slotAlign
	if mis == 0 {
		return s
	}
	pad := slotAlign - mis
	t := reflect.StructOf([]reflect.StructField{
		{Name: "Pad", Type: reflect.ArrayOf(int(pad), reflect.TypeFor[byte]())},
		{Name: "Slots", Type: reflect.ArrayOf(n, reflect.TypeFor[slot]())},
	})
	p := unsafe.Add(reflect.New(t).UnsafePointer(), t.Field(1).Offset)
	if uintptr(p)%slotAlign != 0 {
		return s // another allocator layout: correct, only slower
	}
	return unsafe.Slice((*slot)(p), n)
}

// get returns the key's slot and state, or nil, nil. h is hashKey(key) already
// shifted past the shard bits. Lock-free.
func (ix *index) get(key, h uint64) (*slot, *keyState) {
	tag := tagOf(h)
	for i := h & ix.mask; ; i = (i + 1) & ix.mask {
		switch ix.tags[i].Load() {
		case tag:
			sl := &ix.slots[i]
			if ks := sl.ks.Load(); sl.key.Load() == key && ks != tombstone && ks != nil {
				return sl, ks
			}
		case tagEmpty:
			return nil, nil
		}
	}
}

// slotOf returns the slot holding ks, or nil. The caller holds the shard's mu.
func (ix *index) slotOf(ks *keyState) *slot {
	i, ok := ix.find(ks)
	if !ok {
		return nil
	}
	return &ix.slots[i]
}

// find returns the position of the slot holding ks, and whether there is one. The
// caller holds the shard's mu.
func (ix *index) find(ks *keyState) (uint64, bool) {
	tag := tagOf(ks.hash)
	for i := ks.hash & ix.mask; ; i = (i + 1) & ix.mask {
		switch ix.tags[i].Load() {
		case tag:
			if ix.slots[i].ks.Load() == ks {
				return i, true
			}
		case tagEmpty:
			return 0, false
		}
	}
}

// put stores ks into the first empty slot of its probe sequence, with rr as its
// round-robin counter. The caller holds the shard's mu (or owns ix before publishing
// it) and ks.mu or owns ks.
func (ix *index) put(ks *keyState, rr uint64) {
	for i := ks.hash & ix.mask; ; i = (i + 1) & ix.mask {
		if ix.tags[i].Load() == tagEmpty {
			sl := &ix.slots[i]
			sl.key.Store(ks.key)
			sl.rr.Store(rr)
			sl.load(ks)
			sl.ks.Store(ks)
			ix.tags[i].Store(tagOf(ks.hash)) // publishes the slot to probes
			return
		}
	}
}

// load copies the key's refreshAt and inline turn sequence into the slot. The
// caller holds the shard's mu (or owns the slot's index before publishing it).
func (sl *slot) load(ks *keyState) {
	sl.refreshAt.Store(ks.refreshAt.Load())
	s := ks.sets.Load()
	v := sl.fast.Load()>>32 + 1
	sl.fast.Store(v << 32) // pickers now take the snapshot until the copy is complete
	n := len(s.idle)
	if s.wheel != nil {
		n = len(s.wheel)
	}
	if n == 0 || n > inlineIdle || len(s.over) != 0 || s.cross || s.v4 != &s.pickSet {
		return // not every picker could take it: the snapshot serves
	}
	for i := range n {
		sl.inline[i].Store(packAddr(s.nextIdle(uint64(i))))
	}
	flags := uint64(n)
	if s.plain && s.wheel == nil && len(s.idle) == s.count() {
		flags |= inlineRoute
	}
	sl.fast.Store((v+1)<<32 | flags)
}

// Flags of slot.fast's low word, below the version: the number of inline turns in
// the low byte, and inlineRoute when they are the key's whole route in address order
// (every host idle, IPv4, with no weight or zone), so that GetRoute may answer them.
const (
	inlineCount = 0xff
	inlineRoute = 1 << 8
)

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
	i, ok := ix.find(ks)
	if !ok {
		return false
	}
	ix.slots[i].ks.Store(tombstone) // a reader that saw the tag finds the slot deleted
	ix.tags[i].Store(tagDeleted)
	sh.live--
	return true
}

// rebuild publishes a new index holding the live keys with room for want keys at a
// load of at most a half, and returns it. The caller holds sh.mu.
//
// Indexes grow at a load of three quarters to a load of at most a half: with the key
// inline in its slot, a probe past a colliding key reads the next slot, adjacent in
// memory, never the colliding key's state; and the denser the index, the more of it
// stays in the CPU caches and TLB. A slot is 128 bytes and a tag 4, 1.3 to 2.7 slots
// a key.
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
