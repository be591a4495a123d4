package tlsconf

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/tlsgen"
)

// site is a CA in a directory, making certificates there with tlsgen.
type site struct {
	t   *testing.T
	dir string
	ca  *tlsgen.CA
}

// newSite makes a CA in a new directory.
func newSite(t *testing.T) *site {
	t.Helper()
	dir := t.TempDir()
	ca, pair, err := tlsgen.NewCA("Test CA", 30, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := tlsgen.WritePair(pair, filepath.Join(dir, tlsgen.CACertFile), filepath.Join(dir, tlsgen.CAKeyFile), false); err != nil {
		t.Fatal(err)
	}
	return &site{t: t, dir: dir, ca: ca}
}

// caFile is the CA certificate's file.
func (s *site) caFile() string { return filepath.Join(s.dir, tlsgen.CACertFile) }

// issue makes a certificate of role for name (a server's names loopback) and returns
// its files, CA included; an existing pair is replaced.
func (s *site) issue(role tlsgen.Role, name string) Files {
	s.t.Helper()
	req := tlsgen.Request{Role: role, Name: name, Days: 7}
	if role.Serves() {
		req.DNSNames, req.IPs = tlsgen.Loopback()
	}
	pair, err := s.ca.Issue(req, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	cf, kf := tlsgen.CertFiles(role, name)
	f := Files{Cert: filepath.Join(s.dir, cf), Key: filepath.Join(s.dir, kf), CA: s.caFile()}
	if err := tlsgen.WritePair(pair, f.Cert, f.Key, true); err != nil {
		s.t.Fatal(err)
	}
	return f
}

// result is how a test server's handshake ended.
type result struct {
	err  error
	peer Peer
	ok   bool // peer is set
}

// testServer is a Server on loopback that echoes lines after the handshake and sends
// each handshake's result on results.
type testServer struct {
	*Server
	addr    string
	results chan result
}

// startServer starts a test server with files f, stopped when the test ends.
func startServer(t *testing.T, f Files, timeout time.Duration) *testServer {
	t.Helper()
	s, err := NewServer(f, timeout)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, addr: ln.Addr().String(), results: make(chan result, 16)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	tln := s.Listener(ln)
	wg.Go(func() {
		for {
			c, err := tln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { ts.handle(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ts
}

// handle runs c's handshake, reports it, and echoes lines until c ends.
func (ts *testServer) handle(c net.Conn) {
	defer c.Close()
	err := c.(*Conn).Handshake()
	p, ok := Identity(c)
	ts.results <- result{err, p, ok}
	if err != nil {
		return
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if _, err := io.WriteString(c, line); err != nil {
			return
		}
	}
}

// result waits for the next handshake's result.
func (ts *testServer) result(t *testing.T) result {
	t.Helper()
	select {
	case r := <-ts.results:
		return r
	case <-time.After(time.Minute): // only a lost handshake waits this long
		t.Fatal("no handshake ended")
		return result{}
	}
}

// dial connects a client with files f to ts, closed when the test ends.
func dial(t *testing.T, ts *testServer, f Files) (*tls.Conn, error) {
	t.Helper()
	c, err := NewClient(f)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := c.Dial(context.Background(), &net.Dialer{}, "tcp", ts.addr)
	if err == nil {
		t.Cleanup(func() { tc.Close() })
	}
	return tc, err
}

// echo sends a line on c and returns the error of reading it back.
func echo(c net.Conn, line string) error {
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if got != line+"\n" {
		return errors.New("echoed " + got)
	}
	return nil
}
