package api

import "time"

// Hooks into the client's internals for the benchmarks of package api_test, which run
// against the fake agent of package apitest (which imports api, so that an internal
// test cannot use it).

// LaneRoundTrip makes one round trip on lane p's socket as a leader alone on its port
// does, without the rest of GetHost: the request written from inside the lane's read,
// which then waits for the answer; with decode, the answer is then handed to the lane's
// reader (parsed, decoded, matched to a slot). The lane's read deadline is not armed:
// see ArmLanesForAnHour.
func LaneRoundTrip(c *Client, p int, req []byte, decode bool) error {
	ln := &c.lanes[p]
	n, err := ln.sr.readNext(req, true)
	if err == nil {
		err = ln.sr.sendErr
	}
	if err == nil && decode {
		ln.r.datagram(n)
	}
	return err
}

// ArmLanesForAnHour sets every lane's read deadline an hour ahead, for round trips
// made with LaneRoundTrip.
func ArmLanesForAnHour(c *Client) {
	for i := range c.lanes {
		c.lanes[i].arm(time.Now().Add(time.Hour), time.Hour)
	}
}
