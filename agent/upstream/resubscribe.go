package upstream

import (
	"net"
	"time"

	"github.com/larsgo/lars/route"
)

// maxResubscribeCatchUp bounds the batches one tick may write to catch up after the
// Run goroutine was held up (a slow write, a busy machine): the pace may then fall
// behind ResubscribeRate, but never turns into one burst.
const maxResubscribeCatchUp = 4

// resubscription is the list of keys a connection pulls again, and how far it got.
// The Run goroutine only.
type resubscription struct {
	keys  []route.Key // every key known at the connection, outstanding first; reused
	next  int         // keys[:next] are written
	start time.Time
}

func (r *resubscription) done() bool { return r.next >= len(r.keys) }

// startResubscription lists every key of the table for the new connection. The pulls
// waiting in the Pulls queue are discarded first: each is outstanding in the table,
// hence first in the list, and keeping both would send it twice.
func (c *RouteClient) startResubscription() {
	pulls := c.table.Pulls()
	for range len(pulls) {
		select {
		case <-pulls:
		default:
		}
	}
	c.resub.keys = c.table.Reconnected(c.resub.keys[:0])
	c.resub.next = 0
	c.resub.start = c.clock()
	c.resubPending.Store(uint64(len(c.resub.keys)))
	if len(c.resub.keys) == 0 {
		c.finishResubscription(c.resub.start) // nothing to pull
	}
}

// resubscribeDue writes the keys of the re-subscription due by now: one batch at the
// start, then ResubscribeRate keys a second, in writes of at most ResubscribeBatch
// keys and at most maxResubscribeCatchUp writes a call. It records the end of the
// re-subscription when the last key is written. It does not allocate.
func (c *RouteClient) resubscribeDue(conn net.Conn, now time.Time) error {
	r := &c.resub
	if r.done() {
		return nil
	}
	due := keysDue(now.Sub(r.start), c.resubRate, c.resubBatch, len(r.keys))
	for writes := 0; r.next < due && writes < maxResubscribeCatchUp; writes++ {
		end := min(r.next+c.resubBatch, due)
		keys := c.table.MarkPulling(r.keys[r.next:end]) // compacts in place: written once
		r.next = end
		if err := c.writePulls(conn, keys); err != nil {
			return err
		}
		c.resubscribedKeys.Add(uint64(len(keys)))
		c.resubPending.Store(uint64(len(r.keys) - r.next))
	}
	if r.done() {
		c.finishResubscription(c.clock())
	}
	return nil
}

// keysDue returns how many of n keys are due elapsed after the start of a
// re-subscription: batch at once, then rate a second, at most n. It counts in whole
// nanoseconds, so that the last key is due exactly (n-batch)/rate after the start: a
// float product falls short by one key at many instants, which delayed it by a tick.
func keysDue(elapsed time.Duration, rate, batch, n int) int {
	elapsed = max(elapsed, 0)
	whole, frac := int64(elapsed/time.Second), int64(elapsed%time.Second)
	due := int64(batch) + whole*int64(rate) + frac*int64(rate)/int64(time.Second)
	return int(min(due, int64(n)))
}

// finishResubscription records a re-subscription whose last key was written at now.
func (c *RouteClient) finishResubscription(now time.Time) {
	c.lastResubscribe.Store(int64(now.Sub(c.resub.start)))
	c.resubscribes.Add(1)
}
