//go:build unix

package api

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// TestSentInReadFallsBackToWaitingWrite covers a request that could not be written
// inside the read (socket buffer full, or the read ended before it began): it is
// written the waiting way and counted once; a refusal met by that write is the call's
// ErrAgentUnreachable, counted, and nothing is sent.
func TestSentInReadFallsBackToWaitingWrite(t *testing.T) {
	agent, c := newHandAgent(t, time.Second)

	c.lanes[0].sr.sendErr = syscall.EAGAIN
	if err := c.sentInRead(0, []byte("request")); err != nil || c.Stats().Sent != 1 {
		t.Fatalf("after EAGAIN: %v, %d sent, want written once", err, c.Stats().Sent)
	}
	agent.SetReadDeadline(time.Now().Add(patience))
	buf := make([]byte, 64)
	if n, err := agent.Read(buf); err != nil || string(buf[:n]) != "request" {
		t.Fatalf("the agent read %q, %v, want the request", buf[:n], err)
	}

	c.lanes[0].sr.sendErr = syscall.ECONNREFUSED
	if err := c.sentInRead(0, []byte("request")); err != ErrAgentUnreachable {
		t.Fatalf("after a refusal: %v, want ErrAgentUnreachable", err)
	}
	if st := c.Stats(); st.Refused != 1 || st.Sent != 1 {
		t.Fatalf("stats %+v, want 1 refused and still 1 sent", st)
	}
}

// TestFollowerSendFailureLeavesNoWaiter covers a caller that finds its port read by
// someone else and whose send fails: it returns the send's error at once, is no longer
// counted waiting on the port, and leaves its slot free for the next call.
func TestFollowerSendFailureLeavesNoWaiter(t *testing.T) {
	_, c := newHandAgent(t, time.Second)
	c.lanes[0].lead.Store(true) // someone reads the port: this call follows
	c.conns[0].Close()          // and its send fails
	if _, err := c.GetHost(context.Background(), 1, 1); err != ErrClosed {
		t.Fatalf("GetHost: %v, want ErrClosed (not a wait for an answer to a request never sent)", err)
	}
	if n := c.lanes[0].waiters.Load(); n != 0 {
		t.Fatalf("%d callers still counted waiting on the port, want 0", n)
	}
	if free := freeSlots(c); free != len(c.slots) {
		t.Fatalf("%d of %d slots free after the call, want all", free, len(c.slots))
	}
}
