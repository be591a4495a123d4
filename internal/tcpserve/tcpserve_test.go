package tcpserve

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// eventWithin bounds every wait of this test for something that must happen: on a
// working build each comes in milliseconds, and the bound is far beyond that, so that
// a machine stalled for seconds never reaches it.
const eventWithin = 30 * time.Second

func TestServerBoundsAndCloses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	handled := make(chan struct{}, 10)
	s := &Server{MaxConns: 2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Handle: func(nc net.Conn) {
		handled <- struct{}{}
		io.Copy(io.Discard, nc) // until Close closes it
		nc.Close()
	}}
	served := make(chan struct{})
	go func() { s.Serve(ln); close(served) }()
	var clients []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
		select {
		case <-handled:
		case <-time.After(eventWithin):
			t.Fatalf("connection %d not handled within %v", len(clients), eventWithin)
		}
	}
	third, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	third.SetReadDeadline(time.Now().Add(eventWithin))
	if _, err := third.Read(make([]byte, 1)); !closedErr(err) {
		t.Fatalf("a connection beyond MaxConns was not closed: %v", err)
	}
	if s.Open() != 2 || s.Accepted() != 2 || s.Refused() != 1 || len(s.Conns()) != 2 {
		t.Fatalf("open %d accepted %d refused %d conns %d", s.Open(), s.Accepted(), s.Refused(), len(s.Conns()))
	}
	ln.Close()
	<-served
	s.Close() // returns once both handlers have
	if s.Open() != 0 {
		t.Fatalf("%d open after Close", s.Open())
	}
	for _, c := range clients {
		c.SetReadDeadline(time.Now().Add(eventWithin))
		if _, err := c.Read(make([]byte, 1)); !closedErr(err) {
			t.Fatalf("connection still open after Close: %v", err)
		}
	}
	s.start(third) // after Close: closed at once, not handled
	// start counts a connection it handles before it returns: exact.
	if s.Accepted() != 2 || s.Open() != 0 {
		t.Fatalf("after Close: accepted %d, open %d; want the connection refused", s.Accepted(), s.Open())
	}
	// A handler would run in its own goroutine: looking for it at once is a best
	// effort, the counts above are the check.
	select {
	case <-handled:
		t.Fatal("a connection was handled after Close")
	default:
	}
}

// closedErr reports whether a read ended because the peer closed the connection.
func closedErr(err error) bool {
	ne, ok := err.(net.Error)
	return err != nil && !(ok && ne.Timeout())
}

// TestNetConnUnwraps: a Handle sees a connection whose NetConn is the one the listener
// accepted, so that what wraps a TLS connection still yields its identity.
func TestNetConnUnwraps(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	got := make(chan net.Conn, 1)
	s := &Server{MaxConns: 1, Handle: func(nc net.Conn) {
		u, ok := nc.(interface{ NetConn() net.Conn })
		if ok {
			got <- u.NetConn()
		} else {
			got <- nil
		}
		nc.Close()
	}}
	s.start(a)
	if c := <-got; c != a {
		t.Fatalf("NetConn %v, want the accepted connection", c)
	}
	s.Close()
}
