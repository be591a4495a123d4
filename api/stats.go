package api

import "sync/atomic"

// Stats are a Client's counters since New; each is read atomically on its own, so a
// snapshot taken while calls run is not a consistent cut.
type Stats struct {
	Sent      uint64 // datagrams sent: get_host, report and get_route requests
	Received  uint64 // datagrams received from the agent
	Late      uint64 // answers nobody waited for any more: late answers to timed-out calls
	Timeouts  uint64 // calls that ended without an answer (timeout, deadline or cancellation)
	Malformed uint64 // answers dropped: bad frame, bad body, unknown msgid, or wrong key for the seq
	Refused   uint64 // ECONNREFUSED seen on a socket: the agent's port refused a datagram
}

// counters are the live counters behind Stats. Each agent port's lane has its own,
// counted by the calls on that port, so that callers on different ports never write
// the same cache line; the client's own counts what happens before a call has a port.
type counters struct {
	sent, received, late, timeouts, malformed, refused atomic.Uint64
}

// addTo adds the counters to s.
func (k *counters) addTo(s *Stats) {
	s.Sent += k.sent.Load()
	s.Received += k.received.Load()
	s.Late += k.late.Load()
	s.Timeouts += k.timeouts.Load()
	s.Malformed += k.malformed.Load()
	s.Refused += k.refused.Load()
}

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	var s Stats
	c.stats.addTo(&s)
	for i := range c.lanes {
		c.lanes[i].stats.addTo(&s)
	}
	return s
}
