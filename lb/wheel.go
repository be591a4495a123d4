package lb

import (
	"slices"
)

// maxWheel bounds a wheel's length for keys of up to maxWheel/2 hosts; a key with more
// hosts gets a wheel of twice its host count.
const maxWheel = 1024

// buildWheel returns the weighted order in which round robin visits hosts of weights w
// (all at least 1): host i appears w[i]/g times in a cycle (g the weights' greatest
// common divisor), spread over it in order of their deadlines (2k+1)/(2 w[i]), so that
// a host of weight 2 comes up every other turn of a host of weight 1 rather than twice
// in a row. When the reduced weights add up to more than the bound, they are scaled
// down to fit (each keeping at least one turn), and shares are then exact to within
// about one turn in the wheel's length. It returns nil when every weight is equal:
// plain round robin then.
func buildWheel(w []uint32) []uint16 {
	if len(w) < 2 || len(w) > 1<<16 {
		return nil
	}
	g := w[0]
	equal := true
	for _, x := range w[1:] {
		if x != w[0] {
			equal = false
		}
		g = gcd(g, x)
	}
	if equal {
		return nil
	}
	r := make([]uint64, len(w))
	total := uint64(0)
	for i, x := range w {
		r[i] = uint64(x / g)
		total += r[i]
	}
	limit := uint64(max(maxWheel, 2*len(w)))
	if total > limit {
		scaled := uint64(0)
		for i := range r {
			r[i] = max(1, r[i]*limit/total)
			scaled += r[i]
		}
		total = scaled
	}
	type turn struct {
		num, den uint64 // deadline num/den
		host     uint16
	}
	turns := make([]turn, 0, total)
	for i, ri := range r {
		for k := uint64(0); k < ri; k++ {
			turns = append(turns, turn{num: 2*k + 1, den: 2 * ri, host: uint16(i)})
		}
	}
	slices.SortFunc(turns, func(a, b turn) int {
		x, y := a.num*b.den, b.num*a.den
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return int(a.host) - int(b.host)
	})
	wheel := make([]uint16, len(turns))
	for i, t := range turns {
		wheel[i] = t.host
	}
	return wheel
}

func gcd(a, b uint32) uint32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
