package larstest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
)

// Report is one ReportStatusRequest a FakeReportService received.
type Report struct {
	Msg *larspb.ReportStatusRequest // owned by the fake: read, do not modify
	At  time.Time                   // when it was decoded
}

// FakeReportService is a Lars report service ("reporter") on loopback TCP: it decodes
// every ReportStatusRequest (msgid 3) and records it; it never answers. Safe for
// concurrent use.
type FakeReportService struct {
	server
	// guarded by server.mu:
	reports   []Report
	badFrames int
}

// StartReportService starts a fake report service listening on addr ("" or a port of
// 0: a free port on 127.0.0.1). Close stops it.
func StartReportService(addr string) (*FakeReportService, error) {
	s := &FakeReportService{}
	s.handle = s.serveConn
	if err := s.start(addr); err != nil {
		return nil, err
	}
	return s, nil
}

// NewReportService starts a fake report service on a free loopback port, failing tb if
// it cannot, and closes it when the test ends.
func NewReportService(tb testing.TB) *FakeReportService {
	tb.Helper()
	s, err := StartReportService("")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Reports returns every report received since the fake started, in order of arrival.
func (s *FakeReportService) Reports() []Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reports)
}

// WaitReports waits until at least n reports have arrived in all and returns them.
func (s *FakeReportService) WaitReports(n int, timeout time.Duration) ([]Report, error) {
	err := s.Wait(timeout, func() bool { return len(s.Reports()) >= n })
	got := s.Reports()
	if err != nil {
		return got, fmt.Errorf("%d status reports, want %d: %w", len(got), n, err)
	}
	return got, nil
}

// BadFrames returns how many frames the fake dropped: unknown msgid or bad body.
func (s *FakeReportService) BadFrames() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.badFrames
}

// serveConn records the reports read from one connection until it fails.
func (s *FakeReportService) serveConn(c *serverConn) {
	sr := codec.NewStreamReader(c, 0)
	for {
		id, body, err := sr.Next()
		if err != nil {
			return // a protocol error too: the stream cannot go on
		}
		msg := &larspb.ReportStatusRequest{}
		bad := id != codec.MsgReportStatusRequest || msg.UnmarshalVT(body) != nil
		now := time.Now()
		s.mu.Lock()
		if bad {
			s.badFrames++
		} else {
			s.reports = append(s.reports, Report{Msg: msg, At: now})
		}
		s.notifyLocked()
		s.mu.Unlock()
	}
}
