package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/larsgo/lars/route"
)

// hostLimits models what hosts can take beyond their latency and failures, for
// simulate: a capacity in calls a second (a host sent more within the last second
// fails the call: it sheds it), reached after a warm-up that starts when the host
// first answers (a cold host takes a tenth of its capacity, growing linearly), and
// the zone it runs in, whose distance from the caller's zone adds latency.
type hostLimits struct {
	capacity map[netip.AddrPort]float64 // calls a second; absent: no limit
	warmUp   map[netip.AddrPort]time.Duration
	zone     map[netip.AddrPort]string
	defCap   float64 // "*": every other host
	defWarm  time.Duration
	defZone  string

	callerZone string        // -zone
	crossZone  time.Duration // -cross-zone

	firstSeen map[netip.AddrPort]time.Duration
	recent    map[netip.AddrPort][]time.Duration // start times of the host's calls in the last second
	inZone    int
}

// parseHostValues parses "IP:PORT=VALUE,..." ("*" for every other host) with parse.
func parseHostValues(flag, spec string, parse func(string) error, set func(addr netip.AddrPort, all bool)) error {
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		h, v, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("-%s %q: want IP:PORT=VALUE", flag, part)
		}
		if err := parse(v); err != nil {
			return fmt.Errorf("-%s %q: %v", flag, part, err)
		}
		if h == "*" {
			set(netip.AddrPort{}, true)
			continue
		}
		ap, err := route.ParseAddrPort(h)
		if err != nil {
			return fmt.Errorf("-%s %q: %v", flag, part, err)
		}
		set(ap, false)
	}
	return nil
}

// parse reads the -host-capacity, -host-warmup and -host-zone flags.
func (l *hostLimits) parse(capacity, warmUp, zone string) error {
	l.capacity, l.warmUp, l.zone = map[netip.AddrPort]float64{}, map[netip.AddrPort]time.Duration{}, map[netip.AddrPort]string{}
	l.firstSeen, l.recent = map[netip.AddrPort]time.Duration{}, map[netip.AddrPort][]time.Duration{}
	var c float64
	if err := parseHostValues("host-capacity", capacity, func(v string) (err error) {
		c, err = strconv.ParseFloat(v, 64)
		if err == nil && !(c > 0) {
			err = fmt.Errorf("capacity %v: want calls a second above 0", c)
		}
		return err
	}, func(a netip.AddrPort, all bool) {
		if all {
			l.defCap = c
		} else {
			l.capacity[a] = c
		}
	}); err != nil {
		return err
	}
	var d time.Duration
	if err := parseHostValues("host-warmup", warmUp, func(v string) (err error) {
		d, err = time.ParseDuration(v)
		if err == nil && d <= 0 {
			err = fmt.Errorf("warm-up %v: want a positive duration", d)
		}
		return err
	}, func(a netip.AddrPort, all bool) {
		if all {
			l.defWarm = d
		} else {
			l.warmUp[a] = d
		}
	}); err != nil {
		return err
	}
	var z string
	return parseHostValues("host-zone", zone, func(v string) error {
		z = v
		return route.CheckZone(v)
	}, func(a netip.AddrPort, all bool) {
		if all {
			l.defZone = z
		} else {
			l.zone[a] = z
		}
	})
}

// active reports whether any limit is modelled.
func (l *hostLimits) active() bool {
	return l.defCap > 0 || len(l.capacity) > 0 || l.callerZone != ""
}

// call applies the limits to a call to a started at: the latency it adds and whether
// the host sheds it.
func (l *hostLimits) call(a netip.AddrPort, at time.Duration) (extra time.Duration, shed bool) {
	zone, ok := l.zone[a]
	if !ok {
		zone = l.defZone
	}
	if l.callerZone != "" {
		if zone == l.callerZone {
			l.inZone++
		} else {
			extra = l.crossZone
		}
	}
	capacity, ok := l.capacity[a]
	if !ok {
		capacity = l.defCap
	}
	if capacity <= 0 {
		return extra, false
	}
	first, seen := l.firstSeen[a]
	if !seen {
		first = at
		l.firstSeen[a] = at
	}
	warm, ok := l.warmUp[a]
	if !ok {
		warm = l.defWarm
	}
	if warm > 0 && at-first < warm {
		capacity *= 0.1 + 0.9*float64(at-first)/float64(warm)
	}
	calls := l.recent[a]
	for len(calls) > 0 && at-calls[0] >= time.Second {
		calls = calls[1:]
	}
	calls = append(calls, at)
	l.recent[a] = calls
	return extra, float64(len(calls)) > capacity
}
