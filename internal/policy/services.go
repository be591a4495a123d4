package policy

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/larsgo/lars/route"
)

// MaxItems bounds the items of one rule's SERVICES list.
const MaxItems = 1000

// Services are the services a rule covers: all of them, or a list of ranges.
type Services struct {
	all    bool
	ranges []Range
}

// All reports whether s covers every service.
func (s Services) All() bool { return s.all }

// Ranges returns the ranges s covers (none when All).
func (s Services) Ranges() []Range { return s.ranges }

// Range is the services whose modid is in [ModLo, ModHi] and cmdid in [CmdLo, CmdHi].
type Range struct {
	ModLo, ModHi, CmdLo, CmdHi int32
}

func (r Range) contains(k route.Key) bool {
	return k.Modid >= r.ModLo && k.Modid <= r.ModHi && k.Cmdid >= r.CmdLo && k.Cmdid <= r.CmdHi
}

// ParseServices reads a SERVICES field: "*", or items MODID, LO-HI, MODID/CMDID and
// MODID/LO-HI separated by commas.
func ParseServices(s string) (Services, error) {
	if s == "*" {
		return Services{all: true}, nil
	}
	items := strings.Split(s, ",")
	if len(items) > MaxItems {
		return Services{}, fmt.Errorf("services: %d items, at most %d", len(items), MaxItems)
	}
	out := Services{ranges: make([]Range, 0, len(items))}
	for _, it := range items {
		r, err := parseItem(it)
		if err != nil {
			return Services{}, fmt.Errorf("services %q: %w", it, err)
		}
		out.ranges = append(out.ranges, r)
	}
	return out, nil
}

// parseItem reads MODID, LO-HI, MODID/CMDID or MODID/LO-HI.
func parseItem(s string) (Range, error) {
	mod, cmd, hasCmd := strings.Cut(s, "/")
	if !hasCmd {
		lo, hi, err := parseSpan(mod)
		return Range{ModLo: lo, ModHi: hi, CmdLo: 0, CmdHi: math.MaxInt32}, err
	}
	m, err := parseID(mod)
	if err != nil {
		return Range{}, err
	}
	lo, hi, err := parseSpan(cmd)
	return Range{ModLo: m, ModHi: m, CmdLo: lo, CmdHi: hi}, err
}

// parseSpan reads N or LO-HI (LO <= HI).
func parseSpan(s string) (lo, hi int32, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = parseID(a); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return lo, lo, nil
	}
	if hi, err = parseID(b); err != nil {
		return 0, 0, err
	}
	if hi < lo {
		return 0, 0, fmt.Errorf("range %d-%d runs backwards", lo, hi)
	}
	return lo, hi, nil
}

// parseID reads a modid or cmdid: decimal digits, 0 to 2147483647.
func parseID(s string) (int32, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range (0 to %d)", s, math.MaxInt32)
	}
	return int32(n), nil
}
