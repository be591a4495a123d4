package routesvc

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// emptyService starts a service on an empty SQLite store.
func emptyService(t *testing.T, cfg Config) *Service {
	t.Helper()
	return startService(t, openStore(t, storetest.SQLiteDSN(t)), cfg)
}

// manyHosts returns n hosts whose ports start at base.
func manyHosts(n int, base int32) []route.Host {
	hosts := make([]route.Host, n)
	for i := range hosts {
		hosts[i] = route.FromWire(int32(0x0A000000+i), base)
	}
	return hosts
}

func TestSlowConnectionClosedWithoutDelayingOthers(t *testing.T) {
	svc := emptyService(t, Config{MaxQueueBytes: 256 << 10, WriteTimeout: time.Hour})
	key := route.Key{Modid: 3, Cmdid: 3}
	slow, fast := dial(t, svc), dial(t, svc)
	slow.pull(3, 3)
	fast.pull(3, 3)
	slow.next(pushWithin) // then never reads again
	fast.next(pushWithin)

	// Push 1,000-host routes (about 12 KiB each) until the slow connection's queue
	// overflows; the fast one must receive every push, and no push may wait for the
	// slow connection (whose write blocks for an hour). How many pushes the overflow
	// takes depends on the socket buffers, not on the machine's speed, so the pushes
	// are bounded, not the time.
	probe, _ := newRoute(key, manyHosts(1000, 1))
	limit := maxPushesToOverflow(t, 256<<10, len(probe.frame))
	var i int32
	for svc.Stats().SlowClosed == 0 {
		if int(i) == limit {
			t.Fatalf("slow connection not closed after %d pushes: %+v", i, svc.Stats())
		}
		i++
		hosts := manyHosts(1000, i)
		set := make(chan struct{})
		go func() {
			defer close(set)
			svc.table.set(key, hosts)
		}()
		fast.waitFor(key, hosts, pushWithin)
		select {
		case <-set:
		case <-time.After(eventWithin):
			t.Fatalf("push %d reached the reading connection, but the push has not returned within %v", i, eventWithin)
		}
	}
	t.Logf("the slow connection was closed at push %d", i)
	if !slow.closedWithin(eventWithin) {
		t.Fatalf("the slow connection is still open: %+v", svc.Stats())
	}
	waitUntil(t, eventWithin, "slow connection unsubscribed", func() bool { return svc.Stats().Connections == 1 })
	hosts := manyHosts(2, 99)
	svc.table.set(key, hosts)
	fast.waitFor(key, hosts, pushWithin)
}

// maxPushesToOverflow returns how many pushes of frame bytes each can, at most, fit
// between a service that writes them and an agent that never reads: the largest
// socket send and receive buffers the kernel allows (Linux's tcp_wmem and tcp_rmem
// maxima, or 64 MiB each when they cannot be read), a queue of queueBytes, then
// twice as many again.
func maxPushesToOverflow(t *testing.T, queueBytes, frame int) int {
	t.Helper()
	buffers := 0
	for _, f := range []string{"/proc/sys/net/ipv4/tcp_wmem", "/proc/sys/net/ipv4/tcp_rmem"} {
		size := 64 << 20
		if b, err := os.ReadFile(f); err == nil {
			if fields := strings.Fields(string(b)); len(fields) == 3 {
				if n, err := strconv.Atoi(fields[2]); err == nil {
					size = n
				}
			}
		}
		buffers += size
	}
	return 2 * (buffers + queueBytes) / frame
}

func TestBadFramesCloseOnlyTheirConnection(t *testing.T) {
	svc := emptyService(t, Config{})
	good := dial(t, svc)
	good.pull(1, 1)
	good.next(pushWithin)
	cases := map[string][]byte{
		"negative length":         {1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff},
		"oversized length":        {1, 0, 0, 0, 0xff, 0xff, 0, 0},
		"unknown id, bad length":  {9, 0, 0, 0, 0xff, 0xff, 0xff, 0xff},
		"undecodable body":        {1, 0, 0, 0, 2, 0, 0, 0, 0x08, 0x80},
		"undecodable hello":       {100, 0, 0, 0, 2, 0, 0, 0, 0x08, 0x80},
		"undecodable unsubscribe": {102, 0, 0, 0, 2, 0, 0, 0, 0x0a, 0x05},
		"larger than a pull":      append([]byte{1, 0, 0, 0, 0x00, 0x10, 0, 0}, make([]byte, 4096)...),
	}
	n := uint64(0)
	for name, frame := range cases {
		bad := dial(t, svc)
		bad.pull(2, 2)
		bad.next(pushWithin)
		if _, err := bad.nc.Write(frame); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bad.closedWithin(eventWithin) {
			t.Fatalf("%s: connection not closed", name)
		}
		n++
		waitUntil(t, eventWithin, name+": counted", func() bool { return svc.Stats().BadFrames == n })
	}
	good.pull(1, 2)
	if m := good.next(pushWithin); m.Key != key12 {
		t.Fatalf("the good connection got %+v", m)
	}
	waitUntil(t, eventWithin, "bad connections gone", func() bool {
		st := svc.Stats()
		return st.Connections == 1 && st.Subscriptions == 2
	})
}

func TestPullsOfOneConnectionArriveInOrderUnderBackpressure(t *testing.T) {
	// A queue of a few frames: pulls wait for room instead of closing the agent.
	svc := emptyService(t, Config{MaxQueueBytes: 64})
	a := dial(t, svc)
	const n = 2000
	go func() {
		for i := range int32(n) {
			a.pull(i, 1)
		}
	}()
	for i := range int32(n) {
		if m := a.next(pushWithin); m.Key.Modid != i {
			t.Fatalf("answer %d is for %+v", i, m.Key)
		}
	}
	if st := svc.Stats(); st.SlowClosed != 0 || st.Subscriptions != n {
		t.Fatalf("stats %+v", st)
	}
}

func TestMaxConns(t *testing.T) {
	svc := emptyService(t, Config{MaxConns: 2})
	a, b := dial(t, svc), dial(t, svc)
	a.pull(1, 1)
	b.pull(1, 1)
	a.next(pushWithin)
	b.next(pushWithin)
	c := dial(t, svc)
	if !c.closedWithin(eventWithin) {
		t.Fatal("a third connection was kept open")
	}
	if st := svc.Stats(); st.Refused != 1 || st.Connections != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestShutdownClosesConnections(t *testing.T) {
	db := openStore(t, storetest.SQLiteDSN(t))
	svc, err := New(Config{Store: db, Listen: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	select {
	case <-svc.Ready():
	case <-time.After(eventWithin):
		t.Fatalf("service not ready within %v", eventWithin)
	}
	a := dial(t, svc)
	a.pull(1, 1)
	a.next(pushWithin)
	start := time.Now()
	cancel()
	// Returning at all is the behaviour (with an agent connected, Run must close its
	// connection to end); how fast is not.
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(eventWithin):
		t.Fatalf("Run did not return within %v", eventWithin)
	}
	// Run closed the connection before returning: the read sees it at once.
	if !a.closedWithin(eventWithin) {
		t.Fatal("connection open after shutdown")
	}
	t.Logf("shutdown took %v", time.Since(start))
}
