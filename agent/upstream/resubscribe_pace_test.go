package upstream

import (
	"net"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// recordConn is a connection that keeps what is written to it.
type recordConn struct {
	net.Conn // nil: only the methods below are called
	written  []byte
}

func (c *recordConn) Write(b []byte) (int, error) {
	c.written = append(c.written, b...)
	return len(b), nil
}

func (c *recordConn) SetWriteDeadline(time.Time) error { return nil }

// keys decodes the GetRouteRequest frames written so far.
func (c *recordConn) keys(t *testing.T) []route.Key {
	t.Helper()
	var keys []route.Key
	var req larspb.GetRouteRequest
	for b := c.written; len(b) > 0; {
		id, size := codec.ReadHeader(b)
		if id != codec.MsgGetRouteRequest || len(b) < codec.HeaderSize+int(size) {
			t.Fatalf("bad frame written: id %v, length %d of %d", id, size, len(b))
		}
		req.ResetVT()
		if err := req.UnmarshalVT(b[codec.HeaderSize : codec.HeaderSize+int(size)]); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, route.Key{Modid: req.Modid, Cmdid: req.Cmdid})
		b = b[codec.HeaderSize+int(size):]
	}
	return keys
}

// TestResubscriptionPace: on a scripted clock, a re-subscription writes one batch at
// once, then ResubscribeRate keys a second and no more, its last key exactly when the
// pace says; a call after a stall catches up by at most maxResubscribeCatchUp batches.
// Every key is written once.
func TestResubscriptionPace(t *testing.T) {
	const (
		n     = 1000
		rate  = 10_000 // keys/s: a batch every 10 ms, the last key at 90 ms
		batch = 100
	)
	routes := make(map[route.Key][]route.Host, n)
	for i := range int32(n) {
		routes[route.Key{Modid: 4, Cmdid: i}] = []route.Host{h1}
	}
	tbl := lb.NewTable(lb.Config{Settings: longUpdateTimeout()})
	tbl.ReplaceRoutes(routes) // known keys, no pull pending
	c := NewRouteClient(RouteClientConfig{Table: tbl, ResubscribeRate: rate, ResubscribeBatch: batch, Link: Link{Logger: quiet}})
	clk := fakeclock.New()
	c.clock = clk.Now
	conn := &recordConn{}
	c.startResubscription()

	// at advances the clock by d, has the client write what is due, and checks how
	// many keys it has written in all.
	at := func(d time.Duration, want int) {
		t.Helper()
		clk.Advance(d)
		if err := c.resubscribeDue(conn, clk.Now()); err != nil {
			t.Fatal(err)
		}
		st := c.Stats()
		if st.ResubscribedKeys != uint64(want) || st.ResubscribePending != uint64(n-want) {
			t.Fatalf("%v after the start: %d keys written, %d pending; want %d",
				clk.Now().Sub(fakeclock.Start), st.ResubscribedKeys, st.ResubscribePending, want)
		}
	}
	at(0, batch)                        // one batch at once
	at(0, batch)                        // nothing more at the same instant
	at(time.Millisecond, batch+10)      // 1 ms: rate/1000 keys more, not a whole batch
	at(9*time.Millisecond, 2*batch)     // 10 ms
	at(60*time.Millisecond, 6*batch)    // a stall to 70 ms: 8 batches due, 4 written
	at(0, 8*batch)                      // the next call catches up
	at(19*time.Millisecond, n-batch/10) // 89 ms: 10 keys short
	if st := c.Stats(); st.Resubscribes != 0 {
		t.Fatalf("re-subscription counted done with keys left: %+v", st)
	}
	at(time.Millisecond, n) // 90 ms: the last key
	st := c.Stats()
	if st.Resubscribes != 1 || st.LastResubscribe != 90*time.Millisecond {
		t.Fatalf("re-subscriptions %d, the last took %v; want 1 taking 90ms", st.Resubscribes, st.LastResubscribe)
	}
	at(time.Second, n) // done: nothing more
	if st := c.Stats(); st.Resubscribes != 1 || st.PullsSent != n {
		t.Fatalf("stats after the end %+v", st)
	}
	pulledOnce(t, conn.keys(t), 4, n)
}

// TestKeysDue: the keys due at an instant, in whole nanoseconds: the instants where a
// float product fell one key short are exact.
func TestKeysDue(t *testing.T) {
	for _, c := range []struct {
		elapsed              time.Duration
		rate, batch, n, want int
	}{
		{0, 10_000, 100, 1000, 100},
		{-time.Second, 10_000, 100, 1000, 100}, // a clock that went back
		{43 * time.Millisecond, 10_000, 100, 1000, 530},
		{86 * time.Millisecond, 10_000, 100, 1000, 960},
		{90 * time.Millisecond, 10_000, 100, 1000, 1000},
		{time.Hour, 10_000, 100, 1000, 1000},
		{1500 * time.Millisecond, 50_000, 500, 100_000, 75_500},
		{time.Second / 3, 3, 1, 10, 1}, // 0.999... keys: not yet the second
		{1<<63 - 1, 50_000, 500, 100_000, 100_000},
	} {
		if got := keysDue(c.elapsed, c.rate, c.batch, c.n); got != c.want {
			t.Errorf("keysDue(%v, %d/s, batch %d, %d keys) = %d, want %d", c.elapsed, c.rate, c.batch, c.n, got, c.want)
		}
	}
}
