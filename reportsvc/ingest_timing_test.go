package reportsvc

import (
	"context"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// The ingest workload: 100 keys of 10 hosts reported by 10 agents (callers), 10,000
// ServerCallStatus rows, every row reported again each round with new counts, as agents
// do every second. A frame is one key's report from one caller: 10 results.
const (
	benchKeys       = 100
	benchHosts      = 10
	benchCallers    = 10
	benchRows       = benchKeys * benchHosts * benchCallers
	benchBaselineOf = 2000 // rows upserted one at a time for the baseline
)

// benchFrames returns the frames of one round: every row once, counts set to round.
func benchFrames(round uint32) []byte {
	var buf []byte
	req := larspb.ReportStatusRequest{Ts: 1700000000 + round}
	for i := range benchHosts {
		req.Results = append(req.Results, &larspb.HostCallResult{Ip: 0x0a000001 + int32(i), Port: 8000})
	}
	for k := range int32(benchKeys) {
		for c := range int32(benchCallers) {
			req.Modid, req.Cmdid, req.Caller = k+1, 1, 0x0a010001+c
			for _, r := range req.Results {
				r.Succ, r.Err, r.Overload = round, round%3, round%2 == 0
			}
			buf, _ = codec.AppendFrame(buf, codec.MsgReportStatusRequest, &req)
		}
	}
	return buf
}

// benchRowsOf returns one round's rows for the baseline.
func benchRowsOf(n int, round uint32) []store.CallStatus {
	rows := make([]store.CallStatus, 0, n)
	for i := range n {
		rows = append(rows, store.CallStatus{
			Key:  route.Key{Modid: int32(i/(benchHosts*benchCallers)) + 1, Cmdid: 1},
			Host: route.FromWire(0x0a000001+int32(i%benchHosts), 8000), Caller: 0x0a010001 + int32(i/benchHosts%benchCallers),
			Succ: round, TS: 1700000000 + int64(round)})
	}
	return rows
}

// rowAtATimeRate upserts rows one statement each, from workers goroutines as Lars's
// db_thread_cnt threads do, and returns rows per second.
func rowAtATimeRate(b *testing.B, db *store.DB, rows []store.CallStatus, workers int) float64 {
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(rows); i += workers {
				if err := db.UpsertCallStatusOne(context.Background(), rows[i]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(len(rows)) / time.Since(start).Seconds()
}

// BenchmarkIngest measures host results per second from agents' TCP connections into
// the store, batched, next to one upsert statement per result (Lars's way, measured in
// the same run on the same database): x-row-at-a-time is the ratio of the two rates.
// Each round sends every row once and waits until it is written, so nothing coalesces:
// every result is a row written.
func BenchmarkIngest(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, dsn string) {
		db := openStore(b, dsn)
		if err := db.UpsertCallStatus(context.Background(), benchRowsOf(benchRows, 0)); err != nil {
			b.Fatal(err) // the rows exist: the steady state is updates
		}
		baseline := rowAtATimeRate(b, db, benchRowsOf(benchBaselineOf, 1), DefaultWorkers)
		svc := startService(b, db, Config{})
		conns := make([]net.Conn, 4) // agents' connections
		for i := range conns {
			conns[i] = dial(b, svc.Service).nc
		}
		rounds := make([][]byte, 2)
		for i := range rounds {
			rounds[i] = benchFrames(uint32(i + 2))
		}
		cpu0 := proctest.ProcessCPU()
		b.ResetTimer()
		frames := (b.N + benchHosts - 1) / benchHosts
		perRound := benchRows / benchHosts
		for sent, r := 0, 0; sent < frames; r++ {
			n := min(frames-sent, perRound)
			round := rounds[r%2]
			sendSplit(b, conns, round[:frameOffset(round, n)])
			sent += n
			for svc.Stats().RowsWritten < uint64(sent*benchHosts) {
				time.Sleep(100 * time.Microsecond)
			}
		}
		b.StopTimer()
		elapsed := b.Elapsed().Seconds()
		st := svc.Stats()
		rate := float64(st.RowsWritten) / elapsed
		b.ReportMetric(rate, "results/s")
		b.ReportMetric(baseline, "row-at-a-time/s")
		b.ReportMetric(rate/baseline, "x-row-at-a-time")
		if st.Results > 0 {
			b.ReportMetric(float64((proctest.ProcessCPU()-cpu0).Nanoseconds())/float64(st.Results), "cpu-ns/result")
			b.ReportMetric(float64(st.RowsWritten)/float64(max(st.Batches, 1)), "rows/batch")
		}
		if st.Coalesced != 0 || st.Dropped() != 0 {
			b.Fatalf("results coalesced or dropped: %+v", st)
		}
	})
}

// frameOffset returns the byte offset of frame n in back-to-back frames.
func frameOffset(frames []byte, n int) int {
	off := 0
	for range n {
		_, size := codec.ReadHeader(frames[off:])
		off += codec.HeaderSize + int(size)
	}
	return off
}

// sendSplit writes frames spread over conns, whole frames each, concurrently.
func sendSplit(b *testing.B, conns []net.Conn, frames []byte) {
	total := 0
	for o := 0; o < len(frames); {
		_, size := codec.ReadHeader(frames[o:])
		o += codec.HeaderSize + int(size)
		total++
	}
	var wg sync.WaitGroup
	off := 0
	for i, c := range conns {
		n := total / len(conns)
		if i < total%len(conns) {
			n++
		}
		end := off + frameOffset(frames[off:], n)
		part := frames[off:end]
		off = end
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Write(part); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
}

// BenchmarkIngestReadOnly is the service's own cost per result, the store taking no
// time: TCP read, decode and queue, with writers handing batches to a store that
// discards them.
func BenchmarkIngestReadOnly(b *testing.B) {
	svc := startService(b, nopStore{}, Config{})
	conns := []net.Conn{dial(b, svc.Service).nc, dial(b, svc.Service).nc}
	frames := benchFrames(1)
	cpu0 := proctest.ProcessCPU()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += benchRows {
		sendSplit(b, conns, frames)
	}
	rounds := uint64((b.N + benchRows - 1) / benchRows)
	for st := svc.Stats(); st.Results < rounds*benchRows; st = svc.Stats() {
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	st := svc.Stats()
	b.ReportMetric(float64(st.Results)/b.Elapsed().Seconds(), "results/s")
	b.ReportMetric(float64((proctest.ProcessCPU()-cpu0).Nanoseconds())/float64(st.Results), "cpu-ns/result")
}

// BenchmarkReportIntoQueue is decoding one report of 10 results whose rows are queued
// already (they are replaced) on one connection: the reader's work per frame.
func BenchmarkReportIntoQueue(b *testing.B) {
	svc, err := New(Config{Store: nopStore{}})
	if err != nil {
		b.Fatal(err)
	}
	c := newConn(svc, nil)
	frames := benchFrames(1)
	_, size := codec.ReadHeader(frames)
	body := frames[codec.HeaderSize : codec.HeaderSize+int(size)]
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.handle(codec.MsgReportStatusRequest, body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchHosts), "ns/result")
}

// memSink keeps the queue alive while the heap is measured.
var memSink *queue

// BenchmarkQueueMemory fills a queue of the default bound with distinct rows and
// reports the heap it holds: bytes per queued row and MiB at the bound.
func BenchmarkQueueMemory(b *testing.B) {
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		q := newQueue(DefaultWorkers, DefaultQueueSize)
		// More rows than the bound, so that every shard is full whatever the hash spread.
		for i := range DefaultQueueSize + DefaultQueueSize/10 {
			r := store.CallStatus{Key: route.Key{Modid: int32(i / 100), Cmdid: 1}, Host: route.FromWire(int32(i%100), 80), Caller: 1}
			q.shardOf(&r).push(&r, 1)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		memSink = q
		if q.depth() != DefaultQueueSize {
			b.Fatalf("%d rows queued, bound %d", q.depth(), DefaultQueueSize)
		}
		held := float64(after.HeapAlloc - before.HeapAlloc)
		b.ReportMetric(held/DefaultQueueSize, "bytes/row")
		b.ReportMetric(held/(1<<20), "MiB-at-bound")
		memSink = nil
	}
}
