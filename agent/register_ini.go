package agent

import (
	"fmt"

	pb "github.com/larsgo/lars/codec/larspb"
)

// setINI makes regs the registrations of the agent's INI ([register]): lines added
// are registered anew (LEASE_NEW), lines gone are deregistered (LEASE_DROP), lines
// changed take their new ttl or check. A client's registration of an instance a line
// names becomes the line's (it no longer expires). Nothing changes if any line is
// invalid or the table would hold more than its maximum.
func (r *registry) setINI(regs []Registration) error {
	want := make(map[regID]Registration, len(regs))
	for i, reg := range regs {
		n, err := reg.normalize()
		if err != nil {
			return fmt.Errorf("[register] instance %d (%d %d %s): %w", i+1, reg.Key.Modid, reg.Key.Cmdid, reg.Host, err)
		}
		id := regID{reg.Key, reg.Host}
		if _, dup := want[id]; dup {
			return fmt.Errorf("[register] instance %d (%d %d %s): listed twice", i+1, reg.Key.Modid, reg.Key.Cmdid, reg.Host)
		}
		want[id] = n
	}
	now := r.clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	added := 0
	for id := range want {
		if r.entries[id] == nil {
			added++
		}
	}
	for id, e := range r.entries {
		if _, keep := want[id]; e.source == srcINI && !keep {
			added--
		}
	}
	if len(r.entries)+added > r.max {
		return fmt.Errorf("[register]: %d registrations would exceed the agent's maximum of %d", len(r.entries)+added, r.max)
	}
	for id, e := range r.entries {
		if _, keep := want[id]; e.source == srcINI && !keep {
			r.remove(id, e)
		}
	}
	for id, reg := range want {
		e := r.entries[id]
		switch {
		case e == nil:
			r.registerAnew(r.add(reg, srcINI, now))
		case e.source != srcINI: // a line added for a process's registration
			e.source = srcINI
			r.update(e, reg, now)
			r.registerAnew(e)
		default:
			r.update(e, reg, now)
		}
	}
	return nil
}

// stateNames are the labels of pb.RegisterState in metrics and /registrations.
var stateNames = [...]string{"pending", "active", "static", "check_failing", "refused", "removed", "gone", "invalid"}

func stateName(s pb.RegisterState) string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}
