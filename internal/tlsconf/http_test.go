package tlsconf

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/tlsgen"
)

// TestHTTPListener: net/http serves mutual TLS through HTTPListener, knows the request
// for TLS and its peer; a plaintext request is refused and counted.
func TestHTTPListener(t *testing.T) {
	s := newSite(t)
	srv, err := NewServer(s.issue(tlsgen.RoleConsole, "console-1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := IdentityOf(*r.TLS)
			fmt.Fprint(w, p, ok)
		}),
		ReadHeaderTimeout: time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0), // the refused handshake below
	}
	go hs.Serve(srv.HTTPListener(ln))
	defer hs.Close()
	cl, err := NewClient(s.issue(tlsgen.RoleClient, "ops-1"))
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: cl.Config("localhost")}
	defer tr.CloseIdleConnections()
	url := "https://localhost:" + fmt.Sprint(ln.Addr().(*net.TCPAddr).Port) + "/"
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	var body [64]byte
	n, _ := resp.Body.Read(body[:])
	resp.Body.Close()
	if got := string(body[:n]); got != "client/ops-1 true" {
		t.Errorf("body %q", got)
	}
	plain := &http.Transport{}
	defer plain.CloseIdleConnections()
	if resp, err := (&http.Client{Transport: plain}).Get("http://" + ln.Addr().String() + "/"); err == nil {
		resp.Body.Close()
		t.Error("plaintext request served")
	}
	if got := srv.Stats().Failed(CausePlaintext); got != 1 {
		t.Errorf("plaintext failures %d, want 1", got)
	}
}
