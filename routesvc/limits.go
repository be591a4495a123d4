package routesvc

// subRefusal says why a pull was answered without recording a subscription.
type subRefusal int

const (
	// refusedPerConn: the connection holds Config.MaxSubsPerConn subscriptions.
	refusedPerConn subRefusal = iota
	// refusedUnknownPerConn: the key has no hosts and the connection holds
	// Config.MaxUnknownSubsPerConn subscriptions to such keys.
	refusedUnknownPerConn
	// refusedTotal: the service holds Config.MaxSubs subscriptions.
	refusedTotal
	numSubRefusals
)

// subRefusalNames are the cause labels of lars_dns_subscriptions_refused_total.
var subRefusalNames = [numSubRefusals]string{"per_conn", "unknown_per_conn", "total"}

// admit counts a new subscription of c, to a key with no hosts when unknown, and
// reports whether it is within the bounds; past them it counts the refusal instead.
func (t *table) admit(c *conn, unknown bool) bool {
	if c.subs.Load() >= t.maxSubsPerConn {
		t.refused[refusedPerConn].Add(1)
		return false
	}
	if unknown && c.unknown.Load() >= t.maxUnknownPerConn {
		t.refused[refusedUnknownPerConn].Add(1)
		return false
	}
	if t.subscriptions.Add(1) > t.maxSubs {
		t.subscriptions.Add(-1)
		t.refused[refusedTotal].Add(1)
		return false
	}
	return true
}
