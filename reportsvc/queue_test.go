package reportsvc

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// row is a call status for host ip:1 of key 1/1 from caller 1 with succ as its count.
func row(ip int32, succ uint32) store.CallStatus {
	return store.CallStatus{Key: route.Key{Modid: 1, Cmdid: 1}, Host: route.FromWire(ip, 1), Caller: 1, Succ: succ}
}

func ips(rows []store.CallStatus) []int32 {
	out := make([]int32, len(rows))
	for i, r := range rows {
		out[i] = ipOf(r.Host)
	}
	return out
}

func TestQueueCoalescesTheLatestStatusInPlace(t *testing.T) {
	s := newShard(10)
	for _, r := range []store.CallStatus{row(1, 1), row(2, 1), row(1, 2), row(3, 1), row(1, 3)} {
		s.push(&r, 1)
	}
	got := s.take(nil, 10)
	if want := []int32{1, 2, 3}; !slices.Equal(ips(got), want) {
		t.Fatalf("queued rows %v, want %v (a replaced row keeps its place)", ips(got), want)
	}
	if got[0].Succ != 3 {
		t.Fatalf("row 1 has succ %d, want the latest, 3", got[0].Succ)
	}
	if s.n != 0 || len(s.index) != 0 || s.depth.Load() != 0 {
		t.Fatalf("shard not empty after taking everything: n %d, index %d", s.n, len(s.index))
	}
}

func TestQueueDropsTheOldestWhenFull(t *testing.T) {
	s := newShard(3)
	var res []pushResult
	for ip := int32(1); ip <= 5; ip++ {
		r := row(ip, 1)
		res = append(res, s.push(&r, 1))
	}
	r := row(5, 9)
	res = append(res, s.push(&r, 1))
	want := []pushResult{pushQueued, pushQueued, pushQueued, pushDroppedOwn, pushDroppedOwn, pushCoalesced}
	if !slices.Equal(res, want) {
		t.Fatalf("push results %v, want %v", res, want)
	}
	if got := ips(s.take(nil, 10)); !slices.Equal(got, []int32{3, 4, 5}) {
		t.Fatalf("queued %v, want the newest three", got)
	}
}

func TestQueuePutBackKeepsNewerRowsAndTheBound(t *testing.T) {
	s := newShard(4)
	for ip := int32(1); ip <= 3; ip++ {
		r := row(ip, 1)
		s.push(&r, 1)
	}
	batch := s.take(nil, 3)
	newer := row(2, 7) // row 2 was reported again while its batch failed
	s.push(&newer, 1)
	extra := row(9, 1)
	s.push(&extra, 1)
	requeued, superseded := s.putBack(batch) // room for 2 of 3; row 2 is superseded
	if requeued != 2 || superseded != 1 {
		t.Fatalf("putBack = %d requeued, %d superseded; want 2, 1", requeued, superseded)
	}
	got := s.take(nil, 10)
	if want := []int32{1, 3, 2, 9}; !slices.Equal(ips(got), want) {
		t.Fatalf("queue after putBack %v, want %v (put back in front, in order)", ips(got), want)
	}
	if got[2].Succ != 7 {
		t.Fatalf("row 2 has succ %d, want the newer 7", got[2].Succ)
	}
	s.push(&extra, 1)
	if requeued, _ := s.putBack([]store.CallStatus{row(5, 1), row(6, 1), row(7, 1), row(8, 1)}); requeued != 3 {
		t.Fatalf("putBack into a shard with room for 3: %d requeued", requeued)
	}
}

// TestQueueMatchesAModel drives a shard with random pushes, takes and put-backs
// (through ring growth, wrap-around and shrinking) and checks it against a plain
// ordered list.
func TestQueueMatchesAModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const bound = 300
	s := newShard(bound)
	var model []store.CallStatus // oldest first
	find := func(ip int32) int {
		return slices.IndexFunc(model, func(r store.CallStatus) bool { return ipOf(r.Host) == ip })
	}
	for step := range 20000 {
		switch op := rng.IntN(10); {
		case op < 7:
			r := row(rng.Int32N(400), uint32(step))
			res := s.push(&r, 1)
			want := pushQueued
			if i := find(ipOf(r.Host)); i >= 0 {
				model[i], want = r, pushCoalesced
			} else {
				if len(model) == bound {
					model, want = model[1:], pushDroppedOwn
				}
				model = append(model, r)
			}
			if res != want {
				t.Fatalf("step %d: push = %v, want %v", step, res, want)
			}
		case op < 9:
			n := rng.IntN(50)
			got := s.take(nil, n)
			n = min(n, len(model))
			if !slices.Equal(got, model[:n]) {
				t.Fatalf("step %d: take %d = %v, want %v", step, n, ips(got), ips(model[:n]))
			}
			model = model[n:]
			if rng.IntN(2) == 0 {
				requeued, superseded := s.putBack(got)
				var back []store.CallStatus
				for i := len(got) - 1; i >= 0; i-- {
					if find(ipOf(got[i].Host)) >= 0 {
						superseded--
						continue
					}
					if len(model)+len(back) < bound {
						back = append(back, got[i])
					}
				}
				slices.Reverse(back)
				model = append(back, model...)
				if requeued != len(back) || superseded != 0 {
					t.Fatalf("step %d: putBack requeued %d, want %d (superseded off by %d)", step, requeued, len(back), superseded)
				}
			}
		default:
			got := s.take(nil, bound)
			if !slices.Equal(got, model) {
				t.Fatalf("step %d: take all = %v, want %v", step, ips(got), ips(model))
			}
			model = model[:0]
		}
		if s.n != len(model) || len(s.index) != len(model) || int(s.depth.Load()) != len(model) || s.n > bound {
			t.Fatalf("step %d: shard holds %d rows (index %d), model %d", step, s.n, len(s.index), len(model))
		}
	}
}

func TestQueueSplitsItsBoundOverShards(t *testing.T) {
	q := newQueue(3, 10)
	total := 0
	for _, s := range q.shards {
		total += s.bound
	}
	if total != 10 || q.shards[0].bound != 4 || q.shards[2].bound != 3 {
		t.Fatalf("bounds %d %d %d", q.shards[0].bound, q.shards[1].bound, q.shards[2].bound)
	}
}

func TestQueueShrinksAfterABurst(t *testing.T) {
	s := newShard(10000)
	for ip := range int32(5000) {
		r := row(ip, 1)
		s.push(&r, 1)
	}
	if len(s.slots) < 5000 {
		t.Fatalf("slots: %d for 5000 rows", len(s.slots))
	}
	for len(s.take(nil, 1000)) > 0 {
	}
	if len(s.slots) != 0 {
		t.Fatalf("slots: %d kept after the burst", len(s.slots))
	}
	r := row(1, 1)
	s.push(&r, 1)
	if got := s.take(nil, 10); len(got) != 1 {
		t.Fatalf("after shrinking: %v", got)
	}
}

// ipOf returns h's wire IP.
func ipOf(h route.Host) int32 {
	ip, _, _ := h.Wire()
	return ip
}
