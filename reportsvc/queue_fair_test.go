package reportsvc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/store"
)

// queued is a row in a shard and its owner, as the tests inspect them.
type queued struct {
	row   store.CallStatus
	owner owner
}

// contents returns the shard's rows, oldest first, with their owners, and checks the
// owners' lists against them.
func contents(t *testing.T, s *shard) []queued {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []queued
	perOwner := map[owner][]int32{}
	for i := s.head; i != noSlot; i = s.slots[i].next {
		out = append(out, queued{s.slots[i].row, s.slots[i].owner})
		perOwner[s.slots[i].owner] = append(perOwner[s.slots[i].owner], i)
	}
	if len(out) != s.n || len(s.index) != s.n || len(perOwner) != len(s.owners) {
		t.Fatalf("shard lists %d rows, n %d, index %d, owners %d (lists %d)", len(out), s.n, len(s.index), len(s.owners), len(perOwner))
	}
	for o, want := range perOwner {
		var got []int32
		for i := s.owners[o].head; i != noSlot; i = s.slots[i].onext {
			got = append(got, i)
		}
		if !slices.Equal(got, want) || s.owners[o].n != len(want) || s.owners[o].tail != want[len(want)-1] {
			t.Fatalf("owner %d list %v (n %d), want %v in queue order", o, got, s.owners[o].n, want)
		}
	}
	return out
}

func TestQueueFloodPushesOutItsOwnRows(t *testing.T) {
	s := newShard(100)
	const agent, flood owner = 2, 1
	for ip := int32(1); ip <= 10; ip++ {
		r := row(ip, 1)
		s.push(&r, agent)
	}
	drops := map[pushResult]int{}
	for ip := int32(1000); ip < 11000; ip++ {
		r := row(ip, 1)
		drops[s.push(&r, flood)]++
	}
	if drops[pushDroppedHeaviest] != 0 || drops[pushDroppedOwn] != 10000-90 {
		t.Fatalf("flood push results %v: want only its own rows dropped, 9910 of them", drops)
	}
	var agentRows int
	for _, q := range contents(t, s) {
		if q.owner == agent {
			agentRows++
		}
	}
	if agentRows != 10 || s.n != 100 {
		t.Fatalf("%d of the agent's 10 rows left, %d queued", agentRows, s.n)
	}
	// The agent reports again, new hosts: they take the flood's place.
	for ip := int32(11); ip <= 20; ip++ {
		r := row(ip, 1)
		if res := s.push(&r, agent); res != pushDroppedHeaviest {
			t.Fatalf("agent push = %v, want a flood row dropped for it", res)
		}
	}
	got := contents(t, s)
	if got[0].owner != agent || ipOf(got[0].row.Host) != 1 {
		t.Fatalf("oldest row %+v: want the agent's first, kept in its place", got[0])
	}
}

func TestQueueLightOwnerTakesTheHeaviestsOldest(t *testing.T) {
	s := newShard(10)
	for ip := int32(1); ip <= 7; ip++ {
		r := row(ip, 1)
		s.push(&r, 1)
	}
	for ip := int32(20); ip <= 22; ip++ {
		r := row(ip, 1)
		s.push(&r, 2)
	}
	r := row(30, 1)
	if res := s.push(&r, 3); res != pushDroppedHeaviest {
		t.Fatalf("push of a new owner into a full shard = %v, want pushDroppedHeaviest", res)
	}
	var left []int32
	for _, q := range contents(t, s) {
		left = append(left, ipOf(q.row.Host))
	}
	if want := []int32{2, 3, 4, 5, 6, 7, 20, 21, 22, 30}; !slices.Equal(left, want) {
		t.Fatalf("queue %v, want %v (owner 1's oldest dropped)", left, want)
	}
	// Owner 2 holds 3 of 10 with 3 owners: under its share of 3.33, so again owner 1.
	r = row(23, 1)
	if res := s.push(&r, 2); res != pushDroppedHeaviest || ipOf(contents(t, s)[0].row.Host) != 3 {
		t.Fatalf("push = %v, queue %v", res, contents(t, s))
	}
	// A coalesced row keeps its owner and its place.
	r = row(23, 9)
	if res := s.push(&r, 3); res != pushCoalesced || s.owners[3].n != 1 || s.owners[2].n != 4 {
		t.Fatalf("coalesce = %v, owners %v", res, s.owners)
	}
}

// TestQueueFairDropsHoldTheRule drives a shard with several owners, one pushing most,
// through takes and put-backs, and checks every drop against the rule: the pusher's
// own oldest row when it held at least an equal share, else the oldest row of an owner
// holding more than one; the rest of the queue keeps its order.
func TestQueueFairDropsHoldTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const bound = 200
	s := newShard(bound)
	var model []queued // oldest first
	drops := map[pushResult]int{}
	for step := range 30000 {
		switch op := rng.IntN(20); {
		case op < 18:
			o := owner(1 + rng.IntN(4))
			if rng.IntN(3) > 0 {
				o = 1 // the flooder
			}
			r := row(rng.Int32N(1000), uint32(step))
			counts := map[owner]int{}
			for _, q := range model {
				counts[q.owner]++
			}
			res := s.push(&r, o)
			drops[res]++
			got := contents(t, s)
			i := slices.IndexFunc(model, func(q queued) bool { return ipOf(q.row.Host) == ipOf(r.Host) })
			switch {
			case i >= 0:
				if res != pushCoalesced {
					t.Fatalf("step %d: push of a queued key = %v", step, res)
				}
				model[i].row = r
			case len(model) < bound:
				if res != pushQueued {
					t.Fatalf("step %d: push into a shard with room = %v", step, res)
				}
				model = append(model, queued{r, o})
			default:
				// Find the dropped row: the one of model missing from got.
				gone := -1
				for j, q := range model {
					if !slices.ContainsFunc(got, func(g queued) bool { return ipOf(g.row.Host) == ipOf(q.row.Host) }) {
						gone = j
					}
				}
				if gone < 0 {
					t.Fatalf("step %d: full shard, push %v, nothing dropped", step, res)
				}
				victim := model[gone].owner
				owners := len(counts)
				if counts[o] == 0 {
					owners++
				}
				first := slices.IndexFunc(model, func(q queued) bool { return q.owner == victim })
				switch {
				case first != gone:
					t.Fatalf("step %d: dropped row %d of owner %d, not its oldest (%d)", step, gone, victim, first)
				case counts[o]*owners >= bound && (res != pushDroppedOwn || victim != o):
					t.Fatalf("step %d: owner %d holds %d of %d (%d owners): push %v dropped owner %d's row, want its own",
						step, o, counts[o], bound, owners, res, victim)
				case counts[o]*owners < bound && (res != pushDroppedHeaviest || counts[victim]*owners <= bound):
					t.Fatalf("step %d: owner %d under its share: push %v dropped a row of owner %d holding %d of %d",
						step, o, res, victim, counts[victim], bound)
				}
				model = append(slices.Delete(model, gone, gone+1), queued{r, o})
			}
			if len(got) != len(model) {
				t.Fatalf("step %d: shard %d rows, model %d", step, len(got), len(model))
			}
			for j := range got {
				if got[j] != model[j] {
					t.Fatalf("step %d: row %d is %+v, model %+v", step, j, got[j], model[j])
				}
			}
		default:
			batch := s.take(nil, rng.IntN(40))
			for j, r := range batch {
				if r != model[j].row {
					t.Fatalf("step %d: take %d = %+v, want %+v", step, j, r, model[j].row)
				}
			}
			model = model[len(batch):]
			if rng.IntN(2) == 0 {
				requeued, _ := s.putBack(batch)
				var back []queued
				for j := len(batch) - 1; j >= 0 && len(back) < requeued; j-- {
					if !slices.ContainsFunc(model, func(q queued) bool { return ipOf(q.row.Host) == ipOf(batch[j].Host) }) {
						back = append(back, queued{batch[j], putBackOwner})
					}
				}
				slices.Reverse(back)
				model = append(back, model...)
			}
		}
	}
	if drops[pushDroppedOwn] == 0 || drops[pushDroppedHeaviest] == 0 {
		t.Fatalf("push results %v: the run never exercised both kinds of drop", drops)
	}
}

// TestFloodingConnectionDropsItsOwnRows: while the store is stuck, one connection
// floods the queue with distinct rows; an agent's rows, reported before and during the
// flood, are all written once the store answers, and every drop is the flooder's own.
func TestFloodingConnectionDropsItsOwnRows(t *testing.T) {
	g := newGateStore()
	const bound, frames, perFrame = 200, 100, 50
	svc := startService(t, g, Config{Workers: 1, QueueSize: bound, BatchSize: 10, WriteTimeout: time.Hour})
	agent, flood := dial(t, svc.Service), dial(t, svc.Service)
	agent.report(7, 7, caller2, tsReport, result{ip1, 80, 1, 0, false}, result{ip2, 80, 1, 0, false})
	waitUntil(t, settle, "the agent's report read", func() bool { return svc.Stats().Frames == 1 })
	g.waitEntered(t) // the writer holds a batch: nothing more leaves the queue
	var buf bytes.Buffer
	results := make([]result, perFrame)
	for f := range frames {
		for i := range results {
			results[i] = result{int32(1000 + f*perFrame + i), 80, 1, 0, false}
		}
		buf.Write(reportFrame(t, 1, 1, caller1, tsReport, results...))
	}
	flood.send(buf.Bytes())
	waitUntil(t, settle, "the flood read", func() bool { return svc.Stats().Frames == 1+frames })
	agent.report(7, 7, caller2, tsReport, result{ipHigh, 80, 1, 0, false})
	waitUntil(t, settle, "the agent's second report read", func() bool { return svc.Stats().Frames == 2+frames })
	st := svc.Stats()
	if st.DroppedOwn == 0 || st.DroppedHeaviest != 1 || st.DroppedQueueFull != st.DroppedOwn+st.DroppedHeaviest {
		t.Fatalf("stats %+v: want the flood's own rows dropped, and one flood row for the agent's new one", st)
	}
	close(g.open)
	waitSettled(t, svc.Service, 3+frames*perFrame, settle)
	stored := g.stored()
	for _, ip := range []int32{ip1, ip2, ipHigh} {
		if _, ok := stored[rowKey{7, 7, ip, 80, caller2}]; !ok {
			t.Errorf("the agent's row for ip %d was not written", ip)
		}
	}
	var m bytes.Buffer
	svc.WriteMetrics(&m)
	want := fmt.Sprintf(`lars_reporter_queue_full_dropped_rows_total{cause="own_over_share"} %d`, st.DroppedOwn)
	if !strings.Contains(m.String(), want) {
		t.Errorf("metrics lack %q", want)
	}
}
