package main

import (
	"flag"

	"github.com/larsgo/lars/route"
)

// hostAttrs are the -weight and -zone flags of route add and route set.
type hostAttrs struct {
	weight uint
	zone   string
}

// hostAttrFlags declares -weight and -zone.
func hostAttrFlags(fs *flag.FlagSet) any {
	a := &hostAttrs{}
	fs.UintVar(&a.weight, "weight", 0, "the host's weight, 1..10000: its share of the calls against the key's other hosts (default: none, which weighs 100)")
	fs.StringVar(&a.zone, "zone", "", "the zone the host runs in (letters, digits, '.', '-', '_'; default: none)")
	return a
}

// apply gives h the flags' weight and zone where h names none, and checks the result.
func (a *hostAttrs) apply(h route.Host) (route.Host, error) {
	if a.weight != 0 && h.Weight == 0 {
		if a.weight > route.MaxWeight {
			return h, usagef("-weight %d: not in 1..%d", a.weight, route.MaxWeight)
		}
		h.Weight = uint32(a.weight)
	}
	if a.zone != "" && h.Zone == "" {
		if err := route.CheckZone(a.zone); err != nil {
			return h, usagef("-zone: %v", err)
		}
		h.Zone = a.zone
	}
	return h, nil
}
