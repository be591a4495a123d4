package ctlplane

import (
	"context"
	"math"
)

// Defaults of a capacity search.
const (
	DefaultSweepFactor  = 2
	DefaultSweepRefine  = 4
	DefaultSweepRetries = 1
)

// Search describes a capacity search: steps at values rising by Factor from Start
// until one misses the objective, then bisection between the highest value that met
// it and the lowest that did not.
type Search struct {
	// Start is the first value. Required.
	Start float64
	// Factor multiplies the value from one step to the next until a miss. Default 2.
	Factor float64
	// Refine is how many bisection steps follow the first miss. Default 4; negative:
	// none.
	Refine int
	// Retries is how many times a step that missed is run again before it counts as
	// missed (a noisy neighbour on a shared machine should not end the search).
	// Default 1; negative: none.
	Retries int
	// Max, when positive, is the highest value tried.
	Max float64
	// Integer rounds every value to a whole number (agents); bisection stops when the
	// values that met and missed are neighbours.
	Integer bool
}

func (s Search) withDefaults() Search {
	if s.Factor == 0 {
		s.Factor = DefaultSweepFactor
	}
	switch {
	case s.Refine == 0:
		s.Refine = DefaultSweepRefine
	case s.Refine < 0:
		s.Refine = 0
	}
	switch {
	case s.Retries == 0:
		s.Retries = DefaultSweepRetries
	case s.Retries < 0:
		s.Retries = 0
	}
	return s
}

// stepOutcome is what one step of a search tells it.
type stepOutcome struct {
	met bool
	// stop ends the search: the step says nothing about the service (the load
	// generator could not keep the pace).
	stop bool
}

// run runs the search, calling step(value, attempt) for each step, and returns the
// highest value that met the objective (found false if none did). It ends early,
// interrupted, when ctx ends.
func (s Search) run(ctx context.Context, step func(v float64, attempt int) (stepOutcome, error)) (best float64, found, interrupted bool, err error) {
	s = s.withDefaults()
	try := func(v float64) (stepOutcome, error) {
		o, err := step(v, 0)
		for a := 1; a <= s.Retries && err == nil && !o.met && !o.stop && ctx.Err() == nil; a++ {
			o, err = step(v, a)
		}
		return o, err
	}
	start := s.Start
	if s.Integer {
		start = math.Max(1, math.Round(start))
	}
	var good, bad float64
	for v := start; s.Max <= 0 || v <= s.Max; v = s.next(v) {
		o, err := try(v)
		if err != nil {
			return best, found, false, err
		}
		if ctx.Err() != nil {
			return best, found, true, nil
		}
		if o.stop {
			return best, found, false, nil
		}
		if !o.met {
			bad = v
			break
		}
		good, best, found = v, v, true
	}
	for range s.Refine {
		if bad == 0 || ctx.Err() != nil {
			break
		}
		mid := (good + bad) / 2
		if s.Integer {
			mid = math.Floor(mid)
			if mid <= good || mid >= bad {
				break
			}
		}
		o, err := try(mid)
		if err != nil {
			return best, found, false, err
		}
		switch {
		case ctx.Err() != nil:
			return best, found, true, nil
		case o.stop:
			return best, found, false, nil
		case o.met:
			good, best, found = mid, mid, true
		default:
			bad = mid
		}
	}
	return best, found, ctx.Err() != nil, nil
}

// next returns the value after v in the rising phase: v times Factor, and for integer
// values at least v+1.
func (s Search) next(v float64) float64 {
	n := v * s.Factor
	if s.Integer {
		n = math.Max(math.Round(n), v+1)
	}
	return n
}
