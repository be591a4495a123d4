package batchio_test

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/echo"
)

// benchSize is the datagram size of the benchmarks, about an agent request.
const benchSize = 64

var benchBatches = []int{1, 16, 64}

// BenchmarkEchoBatch measures round trips of k datagrams between a batchio client and
// the echo server, one sendmmsg and at least one recvmmsg per side and round trip.
func BenchmarkEchoBatch(b *testing.B) { benchEcho(b, batched) }

// BenchmarkEchoPortableClient is BenchmarkEchoBatch with a NewPortableConn client: one
// system call per datagram on the client side only.
func BenchmarkEchoPortableClient(b *testing.B) { benchEcho(b, portable) }

func benchEcho(b *testing.B, kind kind) {
	for _, k := range benchBatches {
		b.Run(fmt.Sprintf("batch=%d", k), func(b *testing.B) {
			srv, err := echo.Start("127.0.0.1:0", 1, k)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			c := dial(b, kind, srv.Addr().String())
			c.UDPConn().SetReadDeadline(time.Now().Add(time.Minute))
			out, in := batchio.NewBatch(k, 0), batchio.NewBatch(k, 0)
			for i := range k {
				out.Msgs[i].N = benchSize
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.WriteBatch(out, k); err != nil {
					b.Fatal(err)
				}
				for got := 0; got < k; {
					n, err := c.ReadBatch(in)
					if err != nil {
						b.Fatal(err)
					}
					got += n
				}
			}
			reportRate(b, k)
		})
	}
}

// BenchmarkEchoNetUDP is the baseline: the same round trips with one net.UDPConn
// ReadFromUDPAddrPort or WriteToUDPAddrPort per datagram on both sides.
func BenchmarkEchoNetUDP(b *testing.B) {
	for _, k := range benchBatches {
		b.Run(fmt.Sprintf("batch=%d", k), func(b *testing.B) {
			srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, batchio.DefaultSlotSize)
				for {
					n, from, err := srv.ReadFromUDPAddrPort(buf)
					if err != nil {
						return
					}
					srv.WriteToUDPAddrPort(buf[:n], from)
				}
			}()
			defer wg.Wait()
			defer srv.Close()
			to := srv.LocalAddr().(*net.UDPAddr).AddrPort()

			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(time.Minute))
			msg, buf := make([]byte, benchSize), make([]byte, batchio.DefaultSlotSize)
			b.ReportAllocs()
			for b.Loop() {
				for range k {
					if _, err := c.WriteToUDPAddrPort(msg, to); err != nil {
						b.Fatal(err)
					}
				}
				for range k {
					if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportRate(b, k)
		})
	}
}

// reportRate reports datagrams echoed per second, k per iteration; ns/op is per round
// trip of k datagrams.
func reportRate(b *testing.B, k int) {
	b.ReportMetric(float64(b.N*k)/b.Elapsed().Seconds(), "pkts/s")
}
