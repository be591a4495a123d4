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

// counters are the live counters behind Stats.
type counters struct {
	sent, received, late, timeouts, malformed, refused atomic.Uint64
}

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	k := &c.stats
	return Stats{
		Sent:      k.sent.Load(),
		Received:  k.received.Load(),
		Late:      k.late.Load(),
		Timeouts:  k.timeouts.Load(),
		Malformed: k.malformed.Load(),
		Refused:   k.refused.Load(),
	}
}
