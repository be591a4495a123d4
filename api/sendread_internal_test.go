//go:build unix

package api

import (
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
	agent.SetReadDeadline(time.Now().Add(2 * time.Second))
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
