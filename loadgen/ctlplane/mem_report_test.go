package ctlplane

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/larstest"
)

// memReportService is a report service in memory, for runs inside a synctest bubble:
// an agent's write hands its frames to the service before it returns, and every
// ReportStatusRequest is recorded with the bubble's time. So once a run's senders
// have ended, the service has every frame they sent. It never answers.
type memReportService struct {
	mu        sync.Mutex
	reports   []larstest.Report
	badFrames int
}

// reportConn is an agent's connection to a memReportService.
type reportConn struct {
	net.Conn // the agent's end of a pipe that nobody reads: Close, deadlines, addresses
	s        *memReportService
	pending  []byte // the start of a frame not yet whole
}

// dial connects one agent.
func (s *memReportService) dial(context.Context, string, string) (net.Conn, error) {
	agent, _ := net.Pipe()
	return &reportConn{Conn: agent, s: s}, nil
}

// Write records every whole frame of what was written so far.
func (c *reportConn) Write(b []byte) (int, error) {
	c.pending = append(c.pending, b...)
	now := time.Now()
	for len(c.pending) >= codec.HeaderSize {
		id, n := codec.ReadHeader(c.pending)
		if n < 0 || len(c.pending)-codec.HeaderSize < int(n) {
			break
		}
		body := c.pending[codec.HeaderSize : codec.HeaderSize+int(n)]
		msg := &larspb.ReportStatusRequest{}
		bad := id != codec.MsgReportStatusRequest || msg.UnmarshalVT(body) != nil
		c.s.mu.Lock()
		if bad {
			c.s.badFrames++
		} else {
			c.s.reports = append(c.s.reports, larstest.Report{Msg: msg, At: now})
		}
		c.s.mu.Unlock()
		c.pending = c.pending[codec.HeaderSize+int(n):]
	}
	return len(b), nil
}

// Reports returns every report received, in order of arrival.
func (s *memReportService) Reports() []larstest.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reports)
}

// BadFrames returns how many frames were not status reports.
func (s *memReportService) BadFrames() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.badFrames
}

// handlerClient returns an HTTP client that serves every request with h in memory:
// a service's admin endpoint inside a synctest bubble.
func handlerClient(h http.Handler) *http.Client {
	return &http.Client{Transport: handlerTransport{h}}
}

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}
