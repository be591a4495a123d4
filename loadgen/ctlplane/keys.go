package ctlplane

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/route"
)

// maxKeySpace bounds the key space a run draws from.
const maxKeySpace = 1 << 24

// keySpace is the keys Modids x Cmdids; index i is modid Lo + i/ncmd, cmdid Lo + i%ncmd,
// as in the agent mode of the load generator.
type keySpace struct {
	mods, cmds loadgen.Range
	ncmd, n    uint64
}

func newKeySpace(mods, cmds loadgen.Range) (keySpace, error) {
	if mods == (loadgen.Range{}) {
		mods = loadgen.Range{Lo: 1, Hi: 1}
	}
	if cmds == (loadgen.Range{}) {
		cmds = loadgen.Range{Lo: 1, Hi: 1}
	}
	if mods.Lo > mods.Hi || cmds.Lo > cmds.Hi {
		return keySpace{}, fmt.Errorf("empty key range %d-%d x %d-%d", mods.Lo, mods.Hi, cmds.Lo, cmds.Hi)
	}
	ncmd := uint64(int64(cmds.Hi) - int64(cmds.Lo) + 1)
	n := uint64(int64(mods.Hi)-int64(mods.Lo)+1) * ncmd
	if n > maxKeySpace {
		return keySpace{}, fmt.Errorf("%d keys in -modids x -cmdids: at most %d", n, maxKeySpace)
	}
	return keySpace{mods: mods, cmds: cmds, ncmd: ncmd, n: n}, nil
}

func (ks keySpace) key(i uint64) route.Key {
	return route.Key{Modid: ks.mods.Lo + int32(i/ks.ncmd), Cmdid: ks.cmds.Lo + int32(i%ks.ncmd)}
}

// drawer draws key indices with a spread.
type drawer struct {
	n    uint64
	rng  *rand.Rand
	zipf *rand.Zipf // nil: uniform
}

func newDrawer(n uint64, spread loadgen.Spread, zipfS float64, rng *rand.Rand) *drawer {
	d := &drawer{n: n, rng: rng}
	if spread == loadgen.Zipf && n > 1 {
		d.zipf = rand.NewZipf(rng, zipfS, 1, n-1)
	}
	return d
}

func (d *drawer) draw() uint64 {
	if d.zipf != nil {
		return d.zipf.Uint64()
	}
	return d.rng.Uint64N(d.n)
}

// subscriptions are the keys every simulated agent holds.
type subscriptions struct {
	// keys are the distinct keys held by at least one agent, in key-space order; an
	// agent refers to them by their position ("slot").
	keys []route.Key
	// agents[a] are agent a's slots, ascending.
	agents [][]int32
	// slotOf maps a packed key to its slot.
	slotOf map[uint64]int32
	// space is the number of keys they were drawn from.
	space uint64
}

// drawSubscriptions gives each of agents agents perAgent distinct keys of ks, drawn
// with spread (a key drawn twice for one agent is drawn again; after many repeats, as
// zipf may cause when perAgent nears the key space, the lowest keys not yet held
// complete the set).
func drawSubscriptions(ks keySpace, agents, perAgent int, spread loadgen.Spread, zipfS float64, seed uint64) (*subscriptions, error) {
	if uint64(perAgent) > ks.n {
		return nil, fmt.Errorf("%d keys per agent but only %d keys in -modids x -cmdids", perAgent, ks.n)
	}
	if zipfS <= 1 {
		zipfS = loadgen.DefaultZipfS
	}
	d := newDrawer(ks.n, spread, zipfS, rand.New(rand.NewPCG(seed, 0x6c61727364)))
	perAgentIdx := make([][]uint64, agents)
	used := map[uint64]struct{}{}
	for a := range perAgentIdx {
		idx := make([]uint64, 0, perAgent)
		have := make(map[uint64]struct{}, perAgent)
		for tries := 0; len(idx) < perAgent && tries < 100*perAgent+100; tries++ {
			i := d.draw()
			if _, dup := have[i]; !dup {
				have[i] = struct{}{}
				idx = append(idx, i)
			}
		}
		for i := uint64(0); len(idx) < perAgent; i++ {
			if _, dup := have[i]; !dup {
				have[i] = struct{}{}
				idx = append(idx, i)
			}
		}
		for _, i := range idx {
			used[i] = struct{}{}
		}
		perAgentIdx[a] = idx
	}
	all := make([]uint64, 0, len(used))
	for i := range used {
		all = append(all, i)
	}
	slices.Sort(all)
	s := &subscriptions{keys: make([]route.Key, len(all)), agents: make([][]int32, agents), slotOf: make(map[uint64]int32, len(all)), space: ks.n}
	slotOfIdx := make(map[uint64]int32, len(all))
	for slot, i := range all {
		k := ks.key(i)
		s.keys[slot] = k
		s.slotOf[route.PackKey(k.Modid, k.Cmdid)] = int32(slot)
		slotOfIdx[i] = int32(slot)
	}
	for a, idx := range perAgentIdx {
		slots := make([]int32, len(idx))
		for j, i := range idx {
			slots[j] = slotOfIdx[i]
		}
		slices.Sort(slots)
		s.agents[a] = slots
	}
	return s, nil
}

// findSlot returns the position of slot in the ascending slots, or -1.
func findSlot(slots []int32, slot int32) int {
	lo, hi := 0, len(slots)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if slots[m] < slot {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(slots) && slots[lo] == slot {
		return lo
	}
	return -1
}
