package routesvc

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/store"
)

// nopLeaseStore is nopStore that registers every instance.
type nopLeaseStore struct{ nopStore }

func (nopLeaseStore) EnsureLeases(context.Context) error { return nil }
func (nopLeaseStore) ApplyLeases(_ context.Context, _ string, reqs []store.LeaseRequest) ([]store.Registration, error) {
	return make([]store.Registration, len(reqs)), nil
}
func (nopLeaseStore) ApplyLeaseBatches(_ context.Context, batches []store.LeaseBatch) ([][]store.Registration, error) {
	res := make([][]store.Registration, len(batches))
	for i, b := range batches {
		res[i] = make([]store.Registration, len(b.Reqs))
	}
	return res, nil
}
func (nopLeaseStore) Renew(context.Context, []store.Renewal) (store.RenewReport, error) {
	return store.RenewReport{}, nil
}
func (nopLeaseStore) ExpireLeases(context.Context, int) ([]store.Lease, error)      { return nil, nil }
func (nopLeaseStore) PruneTombstones(context.Context, time.Duration) (int64, error) { return 0, nil }

// FuzzLeaseFrames feeds any bytes to a connection's reader of a service that takes
// registrations: it must never panic; every Lease frame taken is answered (one
// LeaseReply queued) or waits for the worker, with one result per entry; a malformed
// or oversized one ends the connection, one of too many entries is dropped; all
// counted.
func FuzzLeaseFrames(f *testing.F) {
	lease := vectors.Frame("ext_lease")
	f.Add(lease)
	f.Add(slices.Concat(vectors.Frame("ext_hello"), lease, lease))
	f.Add([]byte{105, 0, 0, 0, 2, 0, 0, 0, 0x0a, 0x05})
	f.Add([]byte{105, 0, 0, 0, 0xff, 0xff, 0, 0})
	f.Add([]byte{105, 0, 0, 0, 0, 0, 0, 0})
	f.Add(leaseOf(1025))
	f.Add(leaseOf(200))
	f.Fuzz(func(t *testing.T, data []byte) {
		svc, err := New(Config{Store: nopLeaseStore{}, AllowRegister: true, MaxQueueBytes: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		c := newConn(svc, a)
		c.owner = "agent@fuzz"
		c.br = bufio.NewReaderSize(bytes.NewReader(data), readBufferSize)
		for c.serveFrame() == nil {
		}
		ls := svc.LeaseStats()
		replies := 0
		for _, frame := range c.queue {
			if id, _ := codec.ReadHeader(frame); id == codec.MsgLeaseReply {
				replies++
				var r larspb.LeaseReply
				if err := r.UnmarshalVT(frame[codec.HeaderSize:]); err != nil {
					t.Fatalf("a reply that does not parse: %v", err)
				}
			}
		}
		if got := replies + len(svc.leases.jobs); uint64(got) != ls.Frames[leaseFrameTaken] || ls.Replies != uint64(replies) {
			t.Fatalf("%d frames taken, %d replies queued (%d counted), %d jobs", ls.Frames[leaseFrameTaken], replies, ls.Replies, len(svc.leases.jobs))
		}
		for len(svc.leases.jobs) > 0 {
			job := <-svc.leases.jobs
			if len(job.reqs) != len(job.idx) || len(job.results) > MaxLeaseEntries {
				t.Fatalf("job of %d requests, %d indexes, %d results", len(job.reqs), len(job.idx), len(job.results))
			}
		}
	})
}

// leaseOf returns a Lease frame of n entries.
func leaseOf(n int) []byte {
	var m larspb.Lease
	for i := range n {
		m.Entries = append(m.Entries, &larspb.LeaseEntry{Modid: 1, Cmdid: 1, Host: &larspb.HostInfo{Ip: 1, Port: int32(i + 1)}, TtlMs: 10000})
	}
	frame, err := codec.AppendFrame(nil, codec.MsgLease, &m)
	if err != nil {
		panic(err)
	}
	return frame
}
