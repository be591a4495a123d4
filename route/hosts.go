package route

import (
	"slices"
)

// Normalize sorts hosts by address (CompareAddr) in place and keeps one host per
// address: the first one given. It returns the shortened slice.
func Normalize(hosts []Host) []Host {
	slices.SortStableFunc(hosts, CompareAddr)
	return slices.CompactFunc(hosts, func(a, b Host) bool { return a.Addr == b.Addr })
}

// Equal reports whether two host lists hold the same hosts in the same order,
// weights and zones included.
func Equal(a, b []Host) bool { return slices.Equal(a, b) }

// Diff compares two normalised host lists: removed are the hosts of old whose address
// want lacks, added the hosts of want whose address old lacks, and changed the hosts
// of want whose address old has with another weight or zone (as want has them). Each
// comes out normalised.
func Diff(old, want []Host) (removed, added, changed []Host) {
	i, j := 0, 0
	for i < len(old) || j < len(want) {
		switch {
		case j == len(want) || (i < len(old) && CompareAddr(old[i], want[j]) < 0):
			removed = append(removed, old[i])
			i++
		case i == len(old) || CompareAddr(old[i], want[j]) > 0:
			added = append(added, want[j])
			j++
		default:
			if old[i] != want[j] {
				changed = append(changed, want[j])
			}
			i++
			j++
		}
	}
	return removed, added, changed
}

// Find returns the position of the host at addr's address in normalised hosts, or -1.
func Find(hosts []Host, h Host) int {
	i, ok := slices.BinarySearchFunc(hosts, h, CompareAddr)
	if !ok {
		return -1
	}
	return i
}

// AllPlain reports whether every host is IPv4 and names no weight or zone: a route
// Lars's own frames carry whole.
func AllPlain(hosts []Host) bool {
	for _, h := range hosts {
		if !h.Is4() || !h.Plain() {
			return false
		}
	}
	return true
}

// AllIPv4 reports whether every host's address is IPv4.
func AllIPv4(hosts []Host) bool {
	for _, h := range hosts {
		if !h.Is4() {
			return false
		}
	}
	return true
}
