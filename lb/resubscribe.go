package lb

import "github.com/larsgo/lars/route"

// Subscriptions to routes belong to a connection of the route service: a key answered
// on one connection gets no pushes on the next until it is asked for there. So after
// every (re)connection the route client pulls every key the table knows again,
// outside the bounded Pulls queue, at its own pace: Reconnected gives it the keys,
// MarkPulling records each batch as it goes out.

// Reconnected tells the table the route service connection was (re)established and
// appends to dst every key the table knows, to be pulled again on the new connection:
// first the keys whose pull is outstanding (in flight, or waiting for room in the Pulls
// queue), then the others, negative keys included. The outstanding keys are marked in
// flight with their pull_timeout restarted, so that Sweep does not queue them again
// while the caller works through the list; the others keep their state until
// MarkPulling. A key waiting in the Pulls queue is left out: the consumer takes it
// from there. Keys created or refreshed during the call may be missed: their pull goes
// through the Pulls queue. A static table returns dst unchanged.
//
// The caller is the consumer of the Pulls queue and does not read it during the call.
// It should drain the queue first, the copies waiting there having been meant for the
// lost connection: the keys drained are then outstanding, hence listed.
func (t *Table) Reconnected(dst []route.Key) []route.Key {
	now := t.tick()
	if t.static {
		return dst
	}
	first := len(dst) // dst[first:first+outstanding] are the outstanding keys
	outstanding := 0
	for i := range t.shards {
		t.shards[i].each(func(ks *keyState) {
			pulling := t.restartPull(ks, now)
			if pulling && t.waiting(ks) {
				return
			}
			modid, cmdid := route.UnpackKey(ks.key)
			dst = append(dst, route.Key{Modid: modid, Cmdid: cmdid})
			if !pulling {
				return
			}
			j := first + outstanding
			dst[j], dst[len(dst)-1] = dst[len(dst)-1], dst[j]
			outstanding++
		})
	}
	return dst
}

// restartPull marks an outstanding pull of the key in flight from now, and reports
// whether the key had one.
func (t *Table) restartPull(ks *keyState, now int64) bool {
	for {
		switch st := ks.pull.Load(); st {
		case pullNone:
			return false
		case pullWanted:
			if !ks.pull.CompareAndSwap(st, pullInFlight) {
				continue
			}
		}
		ks.pullAt.Store(now)
		return true
	}
}

// waiting reports whether the key's last copy queued on Pulls is still there.
func (t *Table) waiting(ks *keyState) bool {
	t.pullMu.Lock()
	defer t.pullMu.Unlock()
	return t.queued(ks)
}

// MarkPulling records that the caller is about to write a pull of each key to the
// route service itself, outside the Pulls queue (the batches of a list from
// Reconnected): each key still in the table has its pull in flight from now, so that
// an unanswered one is retried by Sweep after pull_timeout and a refresh does not
// pull it again meanwhile. Keys no longer in the table, and keys waiting in the Pulls
// queue (a refresh since Reconnected: the consumer sends that copy), are removed from
// keys, which is compacted in place; the keys to write are returned. The caller is
// the consumer of the Pulls queue. It does not allocate.
func (t *Table) MarkPulling(keys []route.Key) []route.Key {
	if t.static {
		return keys[:0]
	}
	now := t.tick()
	kept := keys[:0]
	for _, k := range keys {
		ks := t.lookup(k.Pack())
		if ks == nil || ks.pull.Load() == pullInFlight && t.waiting(ks) {
			continue
		}
		ks.pullAt.Store(now)
		ks.pull.Store(pullInFlight)
		kept = append(kept, k)
	}
	return kept
}
