package routesvc

// subRefusal says why a pull was answered without recording a subscription.
type subRefusal int

const (
	// refusedPerConn: the connection holds Config.MaxSubsPerConn subscriptions.
	refusedPerConn subRefusal = iota
	// refusedTotal: the service holds Config.MaxSubs subscriptions.
	refusedTotal
	numSubRefusals
)

// subRefusalNames are the cause labels of lars_dns_subscriptions_refused_total.
var subRefusalNames = [numSubRefusals]string{"per_conn", "total"}

// admit counts a new subscription of c and reports whether it is within the bounds;
// past them it counts the refusal instead. The caller holds the entry's lock.
func (t *table) admit(c *conn) bool {
	if c.subs.Load() >= t.maxSubsPerConn {
		t.refused[refusedPerConn].Add(1)
		return false
	}
	if t.subscriptions.Add(1) > t.maxSubs {
		t.subscriptions.Add(-1)
		t.refused[refusedTotal].Add(1)
		return false
	}
	return true
}
