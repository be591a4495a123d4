package tcpserve

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// idleServer is a Server whose sweep ticks only when the test calls sweep (its
// IdleTimeout is an hour), with the client side of each handled connection.
type idleServer struct {
	*Server
	addr    string
	handled chan net.Conn // the server side of each connection handled
}

func startIdleServer(t *testing.T, maxConns int) *idleServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	is := &idleServer{addr: ln.Addr().String(), handled: make(chan net.Conn, 16)}
	is.Server = &Server{MaxConns: maxConns, IdleTimeout: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handle: func(nc net.Conn) {
			is.handled <- nc
			io.Copy(io.Discard, nc)
			nc.Close()
		}}
	served := make(chan struct{})
	go func() { is.Serve(ln); close(served) }()
	t.Cleanup(func() { ln.Close(); <-served; is.Close() })
	return is
}

// dial connects a client and returns it with the server side of the connection.
func (is *idleServer) dial(t *testing.T) (client, server net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", is.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	select {
	case nc := <-is.handled:
		return c, nc
	case <-time.After(eventWithin):
		t.Fatalf("connection not handled within %v", eventWithin)
	}
	return nil, nil
}

func (is *idleServer) keepSilent(nc net.Conn) { is.SetKept(nc, true) }

// waitClosed fails the test unless the server closes the client's connection.
func waitClosed(t *testing.T, client net.Conn, what string) {
	t.Helper()
	client.SetReadDeadline(time.Now().Add(eventWithin))
	if _, err := client.Read(make([]byte, 1)); !closedErr(err) {
		t.Fatalf("%s: not closed: %v", what, err)
	}
}

// stillOpen fails the test if the server closed the client's connection: the server
// closes synchronously in sweep and evictSilent, so after them a closed connection
// reads EOF at once, and an open one times out.
func stillOpen(t *testing.T, client net.Conn, what string) {
	t.Helper()
	client.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := client.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("%s: closed (%v), want it kept", what, err)
	}
}

func TestSilentConnectionClosedAfterFourQuarters(t *testing.T) {
	is := startIdleServer(t, 10)
	silentClient, _ := is.dial(t)
	activeClient, active := is.dial(t)
	keptClient, kept := is.dial(t)
	is.keepSilent(kept)
	for range quartersIdle - 1 {
		is.sweep()
		is.Touch(active)
	}
	stillOpen(t, silentClient, "silent for three quarters")
	is.sweep()
	is.Touch(active)
	waitClosed(t, silentClient, "silent for four quarters")
	stillOpen(t, activeClient, "touched every quarter")
	stillOpen(t, keptClient, "kept by SetKept")
	if is.IdleClosed() != 1 || is.Evicted() != 0 {
		t.Fatalf("idle closed %d evicted %d, want 1 and 0", is.IdleClosed(), is.Evicted())
	}
}

func TestFullServerEvictsTheLongestSilent(t *testing.T) {
	is := startIdleServer(t, 3)
	keptClient, kept := is.dial(t)
	is.keepSilent(kept)
	oldClient, _ := is.dial(t)
	is.sweep()
	youngClient, young := is.dial(t) // touched at tick 1: not silent yet

	// Full: the new connection takes the place of the longest silent one that
	// its handler does not keep, though the kept one is as old.
	newClient, newest := is.dial(t)
	waitClosed(t, oldClient, "the longest silent connection")
	stillOpen(t, keptClient, "the kept connection, while another is silent")
	stillOpen(t, youngClient, "a connection silent for less than a quarter")

	// None silent enough but the kept one: it goes, as a last resort.
	is.sweep()
	is.Touch(young)
	is.Touch(newest)
	lastClient, _ := is.dial(t)
	waitClosed(t, keptClient, "the kept connection, when no other is silent")
	stillOpen(t, newClient, "touched this quarter")
	stillOpen(t, youngClient, "touched this quarter")
	stillOpen(t, lastClient, "the newest")
	if is.Evicted() != 2 || is.Refused() != 0 {
		t.Fatalf("evicted %d refused %d, want 2 and 0", is.Evicted(), is.Refused())
	}
}

func TestFullServerRefusesWhenNoneIsSilent(t *testing.T) {
	is := startIdleServer(t, 1)
	first, _ := is.dial(t)
	c, err := net.Dial("tcp", is.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitClosed(t, c, "a connection beyond MaxConns, none silent")
	stillOpen(t, first, "the connection touched this quarter")
	if is.Refused() != 1 || is.Evicted() != 0 {
		t.Fatalf("refused %d evicted %d, want 1 and 0", is.Refused(), is.Evicted())
	}
}

func TestTouchDoesNotAllocate(t *testing.T) {
	is := startIdleServer(t, 1)
	_, nc := is.dial(t)
	if n := testing.AllocsPerRun(1000, func() { is.Touch(nc) }); n != 0 {
		t.Fatalf("Touch allocates %v times", n)
	}
}

func TestKeptConnectionOutlivesSilence(t *testing.T) {
	is := startIdleServer(t, 10)
	keptClient, kept := is.dial(t)
	releasedClient, released := is.dial(t)
	silentClient, _ := is.dial(t)
	is.SetKept(kept, true)
	is.SetKept(released, true)
	is.SetKept(released, false) // its reason to be kept is gone
	for range quartersIdle {
		is.sweep()
	}
	waitClosed(t, silentClient, "silent for four quarters")
	waitClosed(t, releasedClient, "kept, then released")
	stillOpen(t, keptClient, "marked by SetKept")
	if n := testing.AllocsPerRun(100, func() { is.SetKept(kept, true) }); n != 0 {
		t.Fatalf("SetKept allocates %v times", n)
	}
}
