package loadgen

import (
	"math/bits"
	"sync/atomic"
)

// A ring holds a socket's outstanding requests of one answered kind. The sender
// goroutine issues requests into it and expires them; the socket's receiver goroutine
// matches answers. Request seq s lives in slot s & mask; every field is atomic, and the
// slot's word (seq, status, phase) decides who owns it: a pending slot is never
// reused, and exactly one of the receiver (answer) and the sender (timeout) moves it
// out of pending, by compare-and-swap.
type ring struct {
	slots []slot
	mask  uint32
	head  atomic.Uint32 // next seq to issue; written by the sender only
	tail  uint32        // oldest seq that may still be pending; sender only
	// pending counts slots in statusPending, for the drain at the end of a run.
	pending atomic.Int64
}

type slot struct {
	word atomic.Uint64 // seq<<32 | phase<<2 | status
	at   atomic.Int64  // intended send time, ns since the run's start
	key  atomic.Uint64 // route.PackKey(modid, cmdid)
}

// Slot statuses.
const (
	statusFree uint64 = iota
	statusPending
	statusAnswered
	statusTimedOut
)

// Phases: requests sent during the warm-up are not measured.
const (
	phaseWarmup = iota
	phaseMeasured
	numPhases
)

func slotWord(seq uint32, phase int, status uint64) uint64 {
	return uint64(seq)<<32 | uint64(phase)<<2 | status
}
func wordSeq(w uint64) uint32    { return uint32(w >> 32) }
func wordStatus(w uint64) uint64 { return w & 3 }
func wordPhase(w uint64) int     { return int(w>>2) & 1 }

// maxRingSlots bounds a ring's memory (24 bytes a slot).
const maxRingSlots = 1 << 22

// newRing returns a ring of at least n slots, a power of two.
func newRing(n int) *ring {
	n = max(n, 64)
	n = min(1<<bits.Len(uint(n-1)), maxRingSlots)
	r := &ring{slots: make([]slot, n), mask: uint32(n - 1)}
	r.head.Store(1) // seq 0 is never used, so a zero word matches no answer
	r.tail = 1
	return r
}

// ringProbe is how many busy slots issue skips before it gives up.
const ringProbe = 16

// issue claims a slot for a new request sent at time at and returns its seq. A slot
// still pending (a request older than a whole ring, waiting for its timeout) is
// skipped, with its seq. ok is false when ringProbe slots in a row are busy: the ring
// is full and the request must wait.
func (r *ring) issue(key uint64, at int64, phase int) (seq uint32, ok bool) {
	s := r.head.Load()
	for range ringProbe {
		if s == 0 {
			s++ // wrapped: keep seq 0 unused
		}
		sl := &r.slots[s&r.mask]
		if wordStatus(sl.word.Load()) == statusPending {
			s++
			continue
		}
		sl.at.Store(at)
		sl.key.Store(key)
		sl.word.Store(slotWord(s, phase, statusPending))
		r.pending.Add(1)
		r.head.Store(s + 1)
		return s, true
	}
	r.head.Store(s)
	return 0, false
}

// expire moves every pending request sent at or before deadline to timed out and
// returns how many it expired, by phase.
// Requests are issued in order of intended send time, so the walk stops at the first
// pending request that is not yet due.
func (r *ring) expire(deadline int64) (n [numPhases]int) {
	head := r.head.Load()
	for r.tail != head {
		sl := &r.slots[r.tail&r.mask]
		w := sl.word.Load()
		if wordSeq(w) != r.tail || wordStatus(w) != statusPending {
			r.tail++ // skipped, answered, or the slot already holds a later request
			continue
		}
		if sl.at.Load() > deadline {
			break
		}
		if !sl.word.CompareAndSwap(w, w&^3|statusTimedOut) {
			continue // answered meanwhile: look again
		}
		r.pending.Add(-1)
		n[wordPhase(w)]++
		r.tail++
	}
	return n
}

// Match results.
const (
	matchOK        = iota // the answer completes a pending request
	matchLate             // its request timed out, or its slot was reused since
	matchDuplicate        // its request was already answered
	matchUnknown          // no request of this ring ever had this seq (or key)
	matchWrongKey         // the seq is pending but for another key
	matchExpired          // pending, but past its timeout: now timed out (and late)
)

// matchSeq completes request seq with an answer for key. A request sent at or before
// expireBefore is past its timeout: it is moved to timed out instead (matchExpired),
// whether or not the sender has noticed yet. On matchOK it returns the request's
// intended send time; with every result but matchUnknown, the request's phase (else
// -1).
func (r *ring) matchSeq(seq uint32, key uint64, expireBefore int64) (res int, at int64, phase int) {
	sl := &r.slots[seq&r.mask]
	for {
		w := sl.word.Load()
		ws := wordSeq(w)
		if ws != seq || seq == 0 {
			if seq != 0 && ws != 0 && int32(ws-seq) > 0 {
				return matchLate, 0, -1 // the slot moved on to a later request
			}
			return matchUnknown, 0, -1
		}
		switch wordStatus(w) {
		case statusAnswered:
			return matchDuplicate, 0, wordPhase(w)
		case statusTimedOut:
			return matchLate, 0, wordPhase(w)
		case statusPending:
		default:
			return matchUnknown, 0, -1
		}
		if sl.key.Load() != key {
			return matchWrongKey, 0, wordPhase(w)
		}
		at = sl.at.Load()
		res, status := matchOK, statusAnswered
		if at <= expireBefore {
			res, status = matchExpired, statusTimedOut
		}
		if sl.word.CompareAndSwap(w, w&^3|status) {
			r.pending.Add(-1)
			return res, at, wordPhase(w)
		}
	}
}

// routeScan bounds the walk of matchKey over outstanding requests.
const routeScan = 4096

// matchKey completes the oldest pending request for key, for answers that carry no
// seq (get_route). Requests sent at or before expireBefore are past their timeout and
// are skipped (the sender's sweep times them out): under FIFO answering, an answer
// that arrives now belongs to a more recent request. *from is the receiver's own hint
// of the oldest seq that may be pending; matchKey advances it over finished requests. When nothing is pending for
// key, the most recent finished request for key (within routeScan) classifies the
// answer as late or duplicate.
func (r *ring) matchKey(key uint64, from *uint32, expireBefore int64) (res int, at int64, phase int) {
	head := r.head.Load()
	if int32(head-*from) < 0 || head-*from > uint32(len(r.slots)) {
		*from = head - min(head-1, uint32(len(r.slots)))
	}
	advancing := true
	s, n := *from, 0
	for s != head && n < routeScan {
		sl := &r.slots[s&r.mask]
		w := sl.word.Load()
		if wordSeq(w) != s || wordStatus(w) != statusPending {
			if advancing {
				*from = s + 1
			}
			s, n = s+1, n+1
			continue
		}
		advancing = false
		if sl.key.Load() == key {
			at := sl.at.Load()
			if at > expireBefore { // an expired one is left to the sender's sweep
				if sl.word.CompareAndSwap(w, w&^3|statusAnswered) {
					r.pending.Add(-1)
					return matchOK, at, wordPhase(w)
				}
				continue // it just timed out: look at the same slot again
			}
		}
		s, n = s+1, n+1
	}
	for s, n := head-1, 0; s != 0 && n < routeScan; s, n = s-1, n+1 {
		sl := &r.slots[s&r.mask]
		w := sl.word.Load()
		if wordSeq(w) != s || sl.key.Load() != key {
			continue
		}
		switch wordStatus(w) {
		case statusAnswered:
			return matchDuplicate, 0, wordPhase(w)
		case statusTimedOut:
			return matchLate, 0, wordPhase(w)
		case statusPending: // expired, not yet swept
			return matchLate, 0, wordPhase(w)
		}
	}
	return matchUnknown, 0, -1
}
