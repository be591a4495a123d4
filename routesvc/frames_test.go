package routesvc

import (
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/route"
)

// send writes frame to the service.
func (a *agentConn) send(frame []byte) {
	a.t.Helper()
	if _, err := a.nc.Write(frame); err != nil {
		a.t.Fatal(err)
	}
}

// nextFrame reads the next frame of any id, failing the test if none comes within d.
func (a *agentConn) nextFrame(d time.Duration) (codec.MsgID, []byte) {
	a.t.Helper()
	a.nc.SetReadDeadline(time.Now().Add(d))
	id, body, err := a.sr.Next()
	if err != nil {
		a.t.Fatalf("no frame within %v: %v", d, err)
	}
	return id, body
}

// unsubscribe sends an Unsubscribe of keys.
func (a *agentConn) unsubscribe(keys ...route.Key) {
	a.t.Helper()
	var m larspb.Unsubscribe
	for _, k := range keys {
		m.Keys = append(m.Keys, &larspb.RouteKey{Modid: k.Modid, Cmdid: k.Cmdid})
	}
	frame, err := codec.AppendFrame(nil, codec.MsgUnsubscribe, &m)
	if err != nil {
		a.t.Fatal(err)
	}
	a.send(frame)
}

func TestFramesOfOtherIDsDroppedConnectionKept(t *testing.T) {
	svc := emptyService(t, Config{})
	a := dial(t, svc)
	a.pull(1, 1)
	a.next(pushWithin)
	a.send([]byte{9, 0, 0, 0, 3, 0, 0, 0, 1, 2, 3})                                // unknown id
	a.send(append([]byte{200, 0, 0, 0, 0x10, 0x27, 0, 0}, make([]byte, 10000)...)) // unknown, larger than the read buffer
	a.send(vectors.Frame("get_host_request"))                                      // a UDP request over TCP
	a.send(vectors.Frame("ext_hello_reply"))                                       // the service's own frame
	a.pull(1, 2)
	if m := a.next(pushWithin); m.Key != key12 {
		t.Fatalf("after the dropped frames: %+v", m)
	}
	st := svc.Stats()
	if st.DroppedFrames[dropUnknownMsgid] != 2 || st.DroppedFrames[dropUnexpectedMsgid] != 2 || st.BadFrames != 0 {
		t.Fatalf("dropped %v, bad %d: want 2 unknown, 2 unexpected, 0 bad", st.DroppedFrames, st.BadFrames)
	}
}

func TestHelloAnsweredWithFeaturesAndIdleTimeout(t *testing.T) {
	for _, c := range []struct {
		idle time.Duration
		want uint32
	}{{0, uint32(DefaultIdleTimeout.Milliseconds())}, {90 * time.Second, 90000}, {-1, 0}} {
		svc := emptyService(t, Config{IdleTimeout: c.idle})
		a := dial(t, svc)
		for range 2 { // the first Hello and a keepalive
			a.send(vectors.Frame("ext_hello"))
			id, body := a.nextFrame(pushWithin)
			var reply larspb.HelloReply
			if err := reply.UnmarshalVT(body); id != codec.MsgHelloReply || err != nil {
				t.Fatalf("answer to a Hello: id %v, err %v", id, err)
			}
			features := uint32(larspb.Feature_FEATURE_UNSUBSCRIBE | larspb.Feature_FEATURE_REGISTER)
			if reply.Features != features || reply.IdleTimeoutMs != c.want {
				t.Fatalf("idle timeout %v: reply %+v, want features 3 and %d ms", c.idle, &reply, c.want)
			}
		}
		if st := svc.Stats(); st.Hellos != 2 {
			t.Fatalf("hellos %d, want 2", st.Hellos)
		}
	}
}

func TestUnsubscribeStopsPushesAndFreesKeys(t *testing.T) {
	svc := emptyService(t, Config{})
	gone, kept, unknown := route.Key{Modid: 7, Cmdid: 1}, route.Key{Modid: 7, Cmdid: 2}, route.Key{Modid: 7, Cmdid: 3}
	svc.table.set(gone, manyHosts(1, 1))
	svc.table.set(kept, manyHosts(1, 1))
	a := dial(t, svc)
	for _, k := range []route.Key{gone, kept, unknown} {
		a.pull(k.Modid, k.Cmdid)
		a.next(pushWithin)
	}
	a.unsubscribe(gone, unknown, route.Key{Modid: 8, Cmdid: 8})
	waitUntil(t, eventWithin, "unsubscribe taken", func() bool { return svc.Stats().UnsubscribeFrames == 1 })
	st := svc.Stats()
	if st.Subscriptions != 1 || st.Unsubscribed != 2 || st.UnsubscribeMisses != 1 {
		t.Fatalf("stats %+v: want 1 subscription, 2 unsubscribed, 1 miss", st)
	}
	if svc.table.get(unknown, false) != nil {
		t.Fatal("the unknown key given back is still in the table")
	}
	// A change of the key given back reaches nobody; the next frame is the kept key's.
	svc.table.set(gone, manyHosts(2, 2))
	svc.table.set(kept, manyHosts(2, 2))
	if m := a.next(pushWithin); m.Key != kept {
		t.Fatalf("first push after the unsubscribe is for %v", m.Key)
	}
}

func TestUnsubscribeLargerThanTheReadBuffer(t *testing.T) {
	svc := emptyService(t, Config{})
	a := dial(t, svc)
	const n = 1000
	for i := range int32(n) {
		a.pull(i, i)
	}
	for range n {
		a.next(pushWithin)
	}
	frame := largeUnsubscribe(n)
	if len(frame) <= readBufferSize {
		t.Fatalf("frame of %d bytes fits the read buffer", len(frame))
	}
	a.send(frame)
	a.pull(1, 2)
	if m := a.next(pushWithin); m.Key != key12 {
		t.Fatalf("after the unsubscribe: %+v", m)
	}
	if st := svc.Stats(); st.Subscriptions != 1 || st.Unsubscribed != n || st.BadFrames != 0 {
		t.Fatalf("stats %+v: want 1 subscription, %d unsubscribed", st, n)
	}
}
