package lb

import (
	"fmt"
	"sync"
	"testing"

	"github.com/larsgo/lars/route"
)

// smoothWRR is the design the wheel was measured against: nginx's smooth weighted
// round robin, whose picks move every host's current weight and so need the key's
// lock (or a compare-and-swap loop over all of them) on every call.
type smoothWRR struct {
	mu      sync.Mutex
	weight  []int
	current []int
	total   int
}

func (s *smoothWRR) pick() int {
	s.mu.Lock()
	best := 0
	for i := range s.current {
		s.current[i] += s.weight[i]
		if s.current[i] > s.current[best] {
			best = i
		}
	}
	s.current[best] -= s.total
	s.mu.Unlock()
	return best
}

// BenchmarkWeightedPickDesigns compares, on one key of 3 hosts weighted 1:2:4 and one
// of 10 hosts weighted 1 to 10, the table's pick (the wheel: lock-free, a turn order
// built when the route changes) with smooth weighted round robin under a lock, on one
// goroutine and on every core at once.
func BenchmarkWeightedPickDesigns(b *testing.B) {
	for _, weights := range [][]uint32{{100, 200, 400}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}} {
		hosts := make([]route.Host, len(weights))
		s := &smoothWRR{}
		for i, w := range weights {
			hosts[i] = route.Host{Addr: hostN(i + 1), Weight: w}
			s.weight = append(s.weight, int(w))
			s.current = append(s.current, 0)
			s.total += int(w)
		}
		tbl := newTableOf(b, Config{Clock: newFakeClock().Now, Static: true}, hosts...)
		name := func(design string) string { return fmt.Sprintf("%s/hosts=%d", design, len(weights)) }
		b.Run(name("wheel"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkHost, sinkRet = tbl.GetHost(tmod, tcmd)
			}
		})
		b.Run(name("wheel-parallel"), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					tbl.GetHost(tmod, tcmd)
				}
			})
		})
		b.Run(name("smooth-wrr"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkHost = hosts[s.pick()].Addr
			}
		})
		b.Run(name("smooth-wrr-parallel"), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					s.pick()
				}
			})
		})
	}
}
