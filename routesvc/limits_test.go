package routesvc

import (
	"testing"

	"github.com/larsgo/lars/route"
)

// TestSubscriptionBounds: past a connection's bound, and past the service's, pulls are
// still answered but subscribe nothing (counted by cause); a connection below its
// bound subscribes until the service's is reached.
func TestSubscriptionBounds(t *testing.T) {
	svc := emptyService(t, Config{MaxSubsPerConn: 3, MaxSubs: 5})
	a, b := dial(t, svc), dial(t, svc)
	for i := range int32(4) {
		a.pull(i, 1)
		if m := a.next(pushWithin); m.Key.Modid != i {
			t.Fatalf("answer %d: %+v", i, m)
		}
	}
	for i := range int32(3) {
		b.pull(i, 2)
		if m := b.next(pushWithin); m.Key.Modid != i {
			t.Fatalf("answer %d: %+v", i, m)
		}
	}
	st := svc.Stats()
	if st.Subscriptions != 5 || st.SubscriptionsRefused != [numSubRefusals]uint64{1, 0, 1} {
		t.Fatalf("stats %+v: want 5 subscriptions, 1 refused per connection, 1 in total", st)
	}
	// The refused keys left nothing in the table; a change reaches the subscribed.
	if svc.table.get(route.Key{Modid: 3, Cmdid: 1}, false) != nil || svc.table.get(route.Key{Modid: 2, Cmdid: 2}, false) != nil {
		t.Fatal("a refused subscription left its key in the table")
	}
	hosts := manyHosts(1, 5)
	svc.table.set(route.Key{Modid: 3, Cmdid: 1}, manyHosts(1, 4)) // refused: not pushed
	svc.table.set(route.Key{Modid: 1, Cmdid: 2}, hosts)
	b.waitFor(route.Key{Modid: 1, Cmdid: 2}, hosts, pushWithin)
	// Room made by an unsubscribe is taken again.
	a.unsubscribe(route.Key{Modid: 0, Cmdid: 1})
	a.pull(3, 1)
	a.waitFor(route.Key{Modid: 3, Cmdid: 1}, manyHosts(1, 4), pushWithin)
	if st := svc.Stats(); st.Subscriptions != 5 || st.SubscriptionsRefused != [numSubRefusals]uint64{1, 0, 1} {
		t.Fatalf("stats %+v: want 5 subscriptions after the unsubscribe and pull", st)
	}
}

// TestUnknownKeySubscriptionsCounted: the gauge follows keys gaining and losing hosts,
// subscriptions made and given back.
func TestUnknownKeySubscriptionsCounted(t *testing.T) {
	svc := emptyService(t, Config{})
	k := route.Key{Modid: 4, Cmdid: 4}
	a, b := dial(t, svc), dial(t, svc)
	for _, c := range []*agentConn{a, b} {
		c.pull(4, 4)
		c.pull(4, 5)
		c.next(pushWithin)
		c.next(pushWithin)
	}
	want := func(what string, subs, unknown int64) {
		t.Helper()
		if st := svc.Stats(); st.Subscriptions != subs || st.UnknownKeySubscriptions != unknown {
			t.Fatalf("%s: %d subscriptions, %d unknown; want %d, %d", what, st.Subscriptions, st.UnknownKeySubscriptions, subs, unknown)
		}
	}
	want("four pulls of unknown keys", 4, 4)
	svc.table.set(k, manyHosts(1, 1))
	want("one key gained hosts", 4, 2)
	a.unsubscribe(k, route.Key{Modid: 4, Cmdid: 5})
	waitUntil(t, eventWithin, "unsubscribe taken", func() bool { return svc.Stats().UnsubscribeFrames == 1 })
	want("a gave both back", 2, 1)
	svc.table.set(k, nil)
	want("the key lost its hosts", 2, 2)
	b.nc.Close()
	waitUntil(t, eventWithin, "b gone", func() bool { return svc.Stats().Connections == 1 })
	want("b closed", 0, 0)
}

// TestUnknownKeySubscriptionBound: a connection subscribes to at most
// MaxUnknownSubsPerConn keys without hosts; a key that gains hosts no longer counts,
// which makes room, and pulls past the bound are answered all the same.
func TestUnknownKeySubscriptionBound(t *testing.T) {
	svc := emptyService(t, Config{MaxUnknownSubsPerConn: 2})
	a := dial(t, svc)
	svc.table.set(key11, manyHosts(1, 1))
	for _, k := range []route.Key{key11, {Modid: 5, Cmdid: 1}, {Modid: 5, Cmdid: 2}, {Modid: 5, Cmdid: 3}} {
		a.pull(k.Modid, k.Cmdid)
		if m := a.next(pushWithin); m.Key != k {
			t.Fatalf("pull of %v answered with %+v", k, m)
		}
	}
	st := svc.Stats()
	if st.Subscriptions != 3 || st.UnknownKeySubscriptions != 2 || st.SubscriptionsRefused != [numSubRefusals]uint64{0, 1, 0} {
		t.Fatalf("stats %+v: want 3 subscriptions, 2 unknown, 1 refused as unknown_per_conn", st)
	}
	svc.table.set(route.Key{Modid: 5, Cmdid: 1}, manyHosts(1, 2))
	a.next(pushWithin)
	a.pull(5, 3) // room made: subscribed now
	a.next(pushWithin)
	svc.table.set(key11, nil) // lost its hosts: unknown again, over the bound, still held
	a.next(pushWithin)
	st = svc.Stats()
	if st.Subscriptions != 4 || st.UnknownKeySubscriptions != 3 || st.SubscriptionsRefused != [numSubRefusals]uint64{0, 1, 0} {
		t.Fatalf("stats %+v: want 4 subscriptions, 3 unknown, 1 refused", st)
	}
	a.pull(5, 4)
	a.next(pushWithin)
	if st := svc.Stats(); st.SubscriptionsRefused != [numSubRefusals]uint64{0, 2, 0} {
		t.Fatalf("stats %+v: want 2 refused", st)
	}
}
