package loadgen

import "sync/atomic"

// Counter fields. Each goroutine owns a counters value and is its only writer; the
// per-second reporter and the final report read them.
const (
	fSent       = 0                       // + Kind: requests handed to sendmmsg
	fReceived   = fSent + int(numKinds)   // + Kind (answered kinds): first answers within the timeout
	fTimeouts   = fReceived + answered    // + Kind: no answer within the timeout
	fLate       = fTimeouts + answered    // + Kind: answers after the timeout
	fDuplicates = fLate + answered        // + Kind: second and later answers
	fRetcodes   = fDuplicates + answered  // + retcode index: get_host answers
	fMalformed  = fRetcodes + numRetcodes // answers that do not parse, or match no request
)

const (
	fWrongKey     = fMalformed + 1 + iota // answers whose seq is pending for another key
	fRefused                              // ICMP refusals (ECONNREFUSED) reported by a socket
	fSendErrors                           // requests sendmmsg skipped (they end as timeouts)
	fReportsAfter                         // reports sent after a get_host answer (also in fSent+KindReport)
	fRingFull                             // times a request waited for a free slot
	numFields
)

// Retcode counter indexes: the four Lars codes, then any other value.
const (
	retSucc = iota
	retOverload
	retSystemError
	retNoExist
	retOther
	numRetcodes
)

// counters are one goroutine's counts, by phase. The padding keeps two goroutines'
// counters off one cache line.
type counters struct {
	v [numPhases][numFields]atomic.Uint64
	_ [64]byte
}

func (c *counters) inc(phase, f int)           { c.v[phase][f].Add(1) }
func (c *counters) add(phase, f int, n uint64) { c.v[phase][f].Add(n) }

// tally is a snapshot of counters, or a sum of them.
type tally [numPhases][numFields]uint64

func (t *tally) addCounters(c *counters) {
	for p := range c.v {
		for f := range c.v[p] {
			t[p][f] += c.v[p][f].Load()
		}
	}
}

// sub returns t - o.
func (t *tally) sub(o *tally) (d tally) {
	for p := range t {
		for f := range t[p] {
			d[p][f] = t[p][f] - o[p][f]
		}
	}
	return d
}
