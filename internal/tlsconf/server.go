package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultHandshakeTimeout bounds a server's handshakes unless told otherwise.
const DefaultHandshakeTimeout = 10 * time.Second

// Server is the TLS end of a service's listener. Its methods are safe for concurrent
// use.
type Server struct {
	files   Files
	timeout time.Duration
	config  *tls.Config // what Config returns: it only points at cur
	mu      sync.Mutex  // serializes Reload
	cur     atomic.Pointer[serverState]

	handshakes   atomic.Uint64
	failures     [numCauses]atomic.Uint64
	reloads      atomic.Uint64
	reloadErrors atomic.Uint64
}

// serverState is one load of the files with the configuration built from it, which
// is never changed.
type serverState struct {
	m      *material
	config *tls.Config
}

// NewServer loads the server's files: f.Cert and f.Key are required, valid now for
// server authentication; with f.CA, every client must present a certificate it signed.
// Handshakes are bounded by timeout (0: DefaultHandshakeTimeout).
func NewServer(f Files, timeout time.Duration) (*Server, error) {
	if f.Cert == "" || f.Key == "" {
		return nil, errors.New("a TLS server needs its certificate and key: give -tls-cert and -tls-key")
	}
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	s := &Server{files: f, timeout: timeout}
	s.config = &tls.Config{
		MinVersion: MinVersion,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.cur.Load().config, nil
		},
	}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Mutual reports whether clients must present a certificate: a CA is named.
func (s *Server) Mutual() bool { return s.files.CA != "" }

// Reload reads the files again. New handshakes use what it read; established
// connections are not touched. On an error the files loaded before stay in use.
func (s *Server) Reload() error {
	err := s.reload()
	if err != nil {
		s.reloadErrors.Add(1)
	} else {
		s.reloads.Add(1)
	}
	return err
}

func (s *Server) reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := load(s.files, x509.ExtKeyUsageServerAuth, time.Now())
	if err != nil {
		return err
	}
	c := &tls.Config{
		MinVersion:   MinVersion,
		Certificates: []tls.Certificate{*m.cert},
		// No resumption: a resumed session would skip the client certificate's
		// verification against a CA reloaded since.
		SessionTicketsDisabled: true,
	}
	if m.pool != nil {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = m.pool
	}
	s.cur.Store(&serverState{m: m, config: c})
	return nil
}

// Certificate returns the server's certificate in use.
func (s *Server) Certificate() *x509.Certificate { return s.cur.Load().m.cert.Leaf }

// Config returns the configuration of tls.Server and tls.NewListener: each handshake
// uses the files last loaded. Prefer Listener and Server, which count failures and
// bound handshakes.
func (s *Server) Config() *tls.Config { return s.config }

// Listener returns a listener whose connections are Server(c) for each connection c
// that inner accepts.
func (s *Server) Listener(inner net.Listener) net.Listener { return listener{inner, s} }

// Server returns the server side of TLS over c, an accepted connection. Its
// handshake runs on its first Read or Write.
func (s *Server) Server(c net.Conn) *Conn {
	return &Conn{Conn: tls.Server(s.sniff(c), s.config), server: s, timeout: s.timeout}
}

// HTTPListener returns a listener for an http.Server: its connections are
// *tls.Conn, whose handshakes net/http runs within its own timeouts and whose requests
// it knows for TLS (Request.TLS; the peer's identity is Identity(tls.Conn)). Plaintext
// clients are refused and counted; the other refused handshakes go to the
// http.Server's ErrorLog, not counted.
func (s *Server) HTTPListener(inner net.Listener) net.Listener { return httpListener{inner, s} }

// sniff returns c refusing and counting a plaintext client.
func (s *Server) sniff(c net.Conn) net.Conn {
	return &sniffConn{Conn: c, plaintext: &s.failures[CausePlaintext]}
}

// Stats are a server's counters since it was made.
type Stats struct {
	Handshakes uint64            // handshakes completed
	Failures   [numCauses]uint64 // handshakes refused, by Cause
	Reloads    uint64            // Reload calls that succeeded
	// ReloadErrors counts Reload calls that failed, leaving the files loaded before in use.
	ReloadErrors uint64
	// NotAfter is when the certificate in use expires.
	NotAfter time.Time
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Handshakes:   s.handshakes.Load(),
		Reloads:      s.reloads.Load(),
		ReloadErrors: s.reloadErrors.Load(),
		NotAfter:     s.Certificate().NotAfter,
	}
	for i := range st.Failures {
		st.Failures[i] = s.failures[i].Load()
	}
	return st
}

// Failed returns the handshakes refused for cause c.
func (st Stats) Failed(c Cause) uint64 {
	if c < 0 || c >= numCauses {
		return 0
	}
	return st.Failures[c]
}
