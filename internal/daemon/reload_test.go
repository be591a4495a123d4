package daemon

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/internal/tlsconf/tlstest"
	"github.com/larsgo/lars/internal/tlsgen"
	"github.com/larsgo/lars/store"
)

// TestSIGHUPReloadsAndKeepsRunning: SIGHUP does not stop Main; it reloads the TLS
// files (a new certificate is then the one in use) and the policy, and says so in the
// log; a stop signal then stops it.
func TestSIGHUPReloadsAndKeepsRunning(t *testing.T) {
	site := tlstest.NewSite(t, "Test CA")
	files := site.Issue(tlsgen.RoleServer, "dns1")
	var f Flags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	f.Register(fs, "conf", "127.0.0.1:0", "agents", 10, time.Second)
	db := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	policyFile := filepath.Join(t.TempDir(), "policy")
	os.WriteFile(policyFile, []byte("pull agent/* *\n"), 0o600)
	if err := fs.Parse([]string{"-db", db, "-tls-cert", files.Cert, "-tls-key", files.Key, "-tls-ca", files.CA, "-max-conns", "10",
		"-policy", policyFile}); err != nil {
		t.Fatal(err)
	}
	r, err := f.Resolve(fs, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r.TLS == nil || !r.TLS.Mutual() {
		t.Fatalf("TLS %v, want a mutual TLS server", r.TLS)
	}
	first := r.TLS.Certificate().SerialNumber
	var log proctest.Buffer
	r.Logger = slog.New(slog.NewTextHandler(&log, nil))
	r.StopLimit = eventWithin
	sig := make(chan os.Signal, 1)
	svc := fakeService{running: make(chan struct{})}
	done := make(chan int, 1)
	go func() { done <- Main(r.Settings, sig, func(*store.DB) (Service, error) { return svc, nil }) }()
	<-svc.running
	site.Issue(tlsgen.RoleServer, "dns1") // a new certificate in the same files
	os.WriteFile(policyFile, []byte("pull agent/* *\nreport agent/* *\n"), 0o600)
	sig <- syscall.SIGHUP
	proctest.Eventually(t, eventWithin, "the reload logged", func() (bool, string) {
		return strings.Contains(log.String(), "SIGHUP: TLS files reloaded") && strings.Contains(log.String(), "SIGHUP: policy reloaded"), log.String()
	})
	if n := len(r.Policy.Current().Rules()); n != 2 {
		t.Fatalf("the policy in force has %d rules, want the reloaded file's 2", n)
	}
	if r.TLS.Certificate().SerialNumber.Cmp(first) == 0 {
		t.Fatal("the certificate in use is still the first")
	}
	os.WriteFile(files.Cert, []byte("not a certificate"), 0o600)
	sig <- syscall.SIGHUP
	proctest.Eventually(t, eventWithin, "the failed reload logged", func() (bool, string) {
		return strings.Contains(log.String(), "TLS files not reloaded"), log.String()
	})
	select {
	case code := <-done:
		t.Fatalf("Main exited %d on SIGHUP", code)
	default:
	}
	sig <- syscall.SIGTERM
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(2 * eventWithin):
		t.Fatal("no exit after SIGTERM")
	}
}

// TestTLSFromConfAndFlags: the conf file's [tls] names the files unless a flag given
// on the command line does; a key without a certificate is an error; no file: no TLS.
func TestTLSFromConfAndFlags(t *testing.T) {
	site := tlstest.NewSite(t, "Test CA")
	files := site.Issue(tlsgen.RoleServer, "rep1")
	conf := filepath.Join(t.TempDir(), "lars.conf")
	os.WriteFile(conf, []byte("[tls]\ncert = "+files.Cert+"\nkey = "+files.Key+"\n"), 0o600)
	resolve := func(args ...string) (*Resolved, error) { return resolveArgs(t, args...) }
	r, err := resolve("-config", conf)
	if err != nil || r.TLS == nil || r.TLS.Mutual() {
		t.Fatalf("from the conf: %v, %v; want TLS without a CA", r, err)
	}
	if r, err = resolve("-config", conf, "-tls-ca", files.CA); err != nil || !r.TLS.Mutual() {
		t.Fatalf("-tls-ca over the conf: %v; want mutual TLS", err)
	}
	if r, err = resolve(); err != nil || r.TLS != nil {
		t.Fatalf("no TLS file: %v, %v", r, err)
	}
	if _, err = resolve("-tls-key", files.Key); err == nil || !strings.Contains(err.Error(), "-tls-cert") {
		t.Fatalf("a key alone: %v", err)
	}
	if _, err = resolve("-tls-cert", files.Key, "-tls-key", files.Key); err == nil {
		t.Fatal("a key as the certificate accepted")
	}
}

// resolveArgs registers the common flags (-max-conns 10), parses args and resolves
// them.
func resolveArgs(t *testing.T, args ...string) (*Resolved, error) {
	t.Helper()
	var f Flags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.Register(fs, "conf", "127.0.0.1:0", "agents", 10, time.Second)
	if err := fs.Parse(append(args, "-max-conns", "10")); err != nil {
		t.Fatal(err)
	}
	return f.Resolve(fs, io.Discard)
}
