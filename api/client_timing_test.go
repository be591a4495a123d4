package api_test

import (
	"context"
	"net"
	"testing"

	"github.com/larsgo/lars/api"
)

// sinkHost keeps benchmark results alive.
var sinkHost api.Host

// BenchmarkGetHost is one caller's get_host round trip to the fake agent over loopback.
func BenchmarkGetHost(b *testing.B) {
	a := startAgent(b)
	c := clientOf(b, a, patience)
	a.SetRoute(1, 1, hostFor(1, 1))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h, err := c.GetHost(ctx, 1, 1)
		if err != nil {
			b.Fatal(err)
		}
		sinkHost = h
	}
}

// BenchmarkGetHostParallel is many callers sharing one client, over the 3 agent ports.
func BenchmarkGetHostParallel(b *testing.B) {
	a := startAgent(b)
	c := clientOf(b, a, patience)
	for k := range int32(3) {
		a.SetRoute(1, k, hostFor(1, k))
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		var k int32
		for pb.Next() {
			if _, err := c.GetHost(ctx, 1, k%3); err != nil { // no shared sink: the callers would write one line
				b.Error(err)
				return
			}
			k++
		}
	})
}

// BenchmarkReport is one report datagram sent.
func BenchmarkReport(b *testing.B) {
	a := startAgent(b)
	c := clientOf(b, a, patience)
	h := hostFor(1, 1)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Report(1, 1, h, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTripBaseline is the floor GetHost is measured against: a bare write
// and read of a 20-byte datagram through an echo socket on loopback, no encoding,
// matching or waking of a waiter.
func BenchmarkRoundTripBaseline(b *testing.B) {
	echo, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			echo.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(echo.LocalAddr().(*net.UDPAddr).AddrPort()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	msg, buf := make([]byte, 20), make([]byte, 2048)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := conn.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}
