package waitfor

import (
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/batchio"
)

const within = 30 * time.Second

func TestPoll(t *testing.T) {
	n := 0
	if !Poll(within, func() bool { n++; return n == 3 }) || n != 3 {
		t.Fatalf("Poll returned after %d calls, want 3", n)
	}
	if Poll(5*time.Millisecond, func() bool { return false }) {
		t.Fatal("Poll reported a condition that never held")
	}
}

// parkedInRead is a frame the test looks for in GoroutinesIn.
func parkedInRead(c net.PacketConn, done chan<- struct{}) {
	buf := make([]byte, 16)
	c.ReadFrom(buf)
	close(done)
}

func TestGoroutinesIn(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go parkedInRead(c, done)
	if !Poll(within, func() bool { return GoroutinesIn("waitfor.parkedInRead", "ReadFrom") == 1 }) {
		t.Fatal("the reading goroutine never showed blocked in its read")
	}
	if n := GoroutinesIn("waitfor.parkedInRead", "no such frame"); n != 0 {
		t.Fatalf("%d goroutines hold a frame none has", n)
	}
	c.Close()
	<-done
	if !Poll(within, func() bool { return GoroutinesIn("waitfor.parkedInRead") == 0 }) {
		t.Fatal("the goroutine still shows after it ended")
	}
}

// TestReadersBlocked: a blocking reader of this process shows in recvmmsg once it
// reads, and ReadersBlocked fails a test while too few readers are blocked.
func TestReadersBlocked(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux shows a thread's system call")
	}
	c, err := batchio.ListenBlocking("udp", "127.0.0.1:0", batchio.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		c.ReadBatch(batchio.NewBatch(1, 64))
		close(done)
	}()
	defer func() { c.Close(); <-done }()
	ReadersBlocked(t, os.Getpid(), 1, within)
	if n := threadsIn(os.Getpid(), ^uintptr(0)); n != 0 {
		t.Fatalf("%d threads in a system call that does not exist", n)
	}
	var short failRecorder
	ReadersBlocked(&short, os.Getpid(), 2, 20*time.Millisecond)
	if !short.failed {
		t.Fatal("ReadersBlocked did not fail with one reader blocked of two wanted")
	}
}

// failRecorder is a testing.TB whose Fatalf records the failure and returns, so that
// a test can check that a helper fails.
type failRecorder struct {
	testing.TB
	failed bool
}

func (f *failRecorder) Helper()               {}
func (f *failRecorder) Fatalf(string, ...any) { f.failed = true }
