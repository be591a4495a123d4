package udpstat

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestDropsCountsAFullReceiveBuffer overflows a socket's receive buffer on loopback:
// the drops are counted on that socket, by its port, and not on the sender's.
func TestDropsCountsAFullReceiveBuffer(t *testing.T) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	if err := rx.SetReadBuffer(1); err != nil { // the kernel's smallest
		t.Fatal(err)
	}
	port := rx.LocalAddr().(*net.UDPAddr).Port
	tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	before, err := Drops([]int{port})
	if err != nil || before != 0 {
		t.Fatalf("a new socket: %d drops, %v", before, err)
	}
	const sent = 200
	payload := make([]byte, 1000)
	for range sent {
		if _, err := tx.Write(payload); err != nil && !errors.Is(err, syscall.ENOBUFS) {
			t.Fatal(err)
		}
	}
	// A buffer of a few KiB holds a few datagrams of 1000 bytes: the rest are dropped,
	// within the send calls or, on a busy machine, when the kernel gets to deliver them.
	var got uint64
	for deadline := time.Now().Add(30 * time.Second); got == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got, err = Drops([]int{port}); err != nil {
			t.Fatal(err)
		}
	}
	if got == 0 || got > sent {
		t.Fatalf("%d drops counted of %d datagrams sent to a full buffer", got, sent)
	}
	txPort := tx.LocalAddr().(*net.UDPAddr).Port
	bySocket, err := SocketDrops(func(local, remote int) bool { return local == txPort && remote == port })
	if err != nil || len(bySocket) != 1 {
		t.Fatalf("the sending socket: %v, %v; want one socket", bySocket, err)
	}
	for inode, n := range bySocket {
		if n != 0 {
			t.Fatalf("the sending socket (inode %s) counts %d drops", inode, n)
		}
	}
}
