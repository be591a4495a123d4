package routesvc

import (
	"testing"
	"time"

	"github.com/larsgo/lars/internal/vectors"
)

// TestSilentConnectionClosedSubscribedKept: with an idle timeout, a connection that
// sends nothing, and one that sent only a Hello, are closed (counted), while one that
// pulled a key and then waits for pushes (a Lars agent) is kept and still pushed to.
func TestSilentConnectionClosedSubscribedKept(t *testing.T) {
	svc := emptyService(t, Config{IdleTimeout: time.Second}) // a stall under a second cannot close a connection before its first frame
	subscribed, silent, hello := dial(t, svc), dial(t, svc), dial(t, svc)
	subscribed.pull(1, 1)
	subscribed.next(pushWithin)
	hello.send(vectors.Frame("ext_hello"))
	hello.nextFrame(pushWithin)
	if !silent.closedWithin(eventWithin) || !hello.closedWithin(eventWithin) {
		t.Fatalf("silent connections still open: %+v", svc.Stats())
	}
	waitUntil(t, eventWithin, "idle closes counted and ended", func() bool {
		st := svc.Stats()
		return st.IdleClosed == 2 && st.Connections == 1
	})
	// The sweep that closed them saw the subscribed connection as silent too: it kept it.
	hosts := manyHosts(1, 9)
	svc.table.set(key11, hosts)
	subscribed.waitFor(key11, hosts, pushWithin)
	if st := svc.Stats(); st.Connections != 1 || st.IdleClosed != 2 || st.Subscriptions != 1 {
		t.Fatalf("stats %+v: want the subscribed connection open, 2 idle closes", st)
	}
}

// TestSilentConnectionsEvictedAtMaxConns: with MaxConns connections open and silent, a
// new connection takes the place of one of them (counted) instead of being refused.
func TestSilentConnectionsEvictedAtMaxConns(t *testing.T) {
	svc := emptyService(t, Config{MaxConns: 2, IdleTimeout: time.Hour})
	a, b := dial(t, svc), dial(t, svc)
	a.pull(1, 1)
	b.pull(1, 1)
	a.next(pushWithin)
	b.next(pushWithin)
	// A new connection is refused until the others have been silent for a quarter of
	// the idle timeout: a quarter of an hour, which the test cannot wait. So the test
	// asks for what it can see: the refusals are counted, and no connection is evicted.
	c := dial(t, svc)
	if !c.closedWithin(eventWithin) {
		t.Fatal("a third connection was kept open")
	}
	if st := svc.Stats(); st.Evicted != 0 || st.Refused != 1 {
		t.Fatalf("stats %+v: want 1 refused, 0 evicted", st)
	}

	svc = emptyService(t, Config{MaxConns: 2, IdleTimeout: time.Second})
	a, b = dial(t, svc), dial(t, svc)
	a.pull(1, 1) // subscribed: kept from idle closes, evicted only for want of others
	b.pull(1, 1)
	a.next(pushWithin)
	b.next(pushWithin)
	deadline := time.Now().Add(eventWithin)
	for {
		c := dial(t, svc)
		c.pull(1, 2)
		if _, err := c.read(eventWithin); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection accepted in place of a silent one within %v: %+v", eventWithin, svc.Stats())
		}
	}
	if st := svc.Stats(); st.Evicted != 1 {
		t.Fatalf("stats %+v: want 1 evicted", st)
	}
}
