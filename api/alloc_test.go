//go:build !race

package api_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/api/apitest"
	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/alloctest"
)

// The allocation counts are process-wide, so they cover the client's reader goroutines
// and the fake agent's serving loop too.

// warmCalls is how many calls run before measuring: they fill the sync.Pools and grow
// the runtime's internal tables.
const warmCalls = 200

// warmThenNoAllocs runs call warmCalls times, then fails t if it allocates at all.
func warmThenNoAllocs(t *testing.T, name string, call func()) {
	t.Helper()
	for range warmCalls {
		call()
	}
	alloctest.Zero(t, name, 1000, call)
}

// warmReports sends warmCalls reports with call, waiting for the agent to receive
// each batch of 50 before the next, so that a busy machine cannot overflow the fake
// agent's socket with reports it has not read yet.
func warmReports(t *testing.T, a *apitest.Agent, call func()) {
	t.Helper()
	const batch = 50
	base := a.Count(codec.MsgReportRequest)
	for i := range warmCalls {
		call()
		if (i+1)%batch == 0 && !a.WaitCount(codec.MsgReportRequest, base+uint64(i+1), patience) {
			t.Fatalf("%d of %d reports arrived", a.Count(codec.MsgReportRequest)-base, i+1)
		}
	}
}

func TestGetHostNoAlloc(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	a.SetRoute(1, 1, hostFor(1, 1), hostFor(1, 2))
	ctx := context.Background()
	call := func() {
		if _, err := c.GetHost(ctx, 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	warmThenNoAllocs(t, "GetHost", call)
}

func TestGetHostWithDeadlineNoAlloc(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	a.SetRoute(1, 1, hostFor(1, 1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	call := func() {
		if _, err := c.GetHost(ctx, 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	warmThenNoAllocs(t, "GetHost with a deadline", call)
}

func TestGetHostErrorNoAlloc(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	a.SetRetcode(1, 1, 1)
	call := func() {
		if _, err := c.GetHost(context.Background(), 1, 1); err != api.ErrOverload {
			t.Fatal(err)
		}
	}
	warmThenNoAllocs(t, "GetHost overloaded", call)
}

func TestReportNoAlloc(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	h := hostFor(1, 1)
	call := func() {
		if err := c.Report(1, 1, h, 1); err != nil {
			t.Fatal(err)
		}
	}
	warmReports(t, a, call)
	alloctest.Zero(t, "Report", 1000, call)
}

func TestReportLatencyNoAlloc(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	h := hostFor(1, 1)
	call := func() {
		if err := c.ReportLatency(1, 1, h, 0, 3*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	warmReports(t, a, call)
	alloctest.Zero(t, "ReportLatency", 1000, call)
}

// TestIPv6NoAlloc: GetHost answered an IPv6 host, and Report of one (in ip6), do not
// allocate either.
func TestIPv6NoAlloc(t *testing.T) {
	a := startAgent(t)
	c := clientOf(t, a, patience)
	h := api.Host{Addr: netip.MustParseAddrPort("[2001:db8::7]:9000")}
	a.SetRoute(1, 1, h)
	ctx := context.Background()
	warmThenNoAllocs(t, "GetHost IPv6", func() {
		if got, err := c.GetHost(ctx, 1, 1); err != nil || got != h {
			t.Fatal(got, err)
		}
	})
	report := func() {
		if err := c.Report(1, 1, h, 1); err != nil {
			t.Fatal(err)
		}
	}
	warmReports(t, a, report)
	alloctest.Zero(t, "Report IPv6", 1000, report)
}
