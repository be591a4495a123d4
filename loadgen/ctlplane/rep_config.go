package ctlplane

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"time"

	"github.com/larsgo/lars/store"
)

// Defaults of ReporterConfig.
const (
	DefaultReporterTarget = "127.0.0.1:7779"
	DefaultReportRate     = 1000
	DefaultSettle         = 5 * time.Second
	// DefaultCallerBase is the first simulated agent's caller address, 10.254.0.0:
	// agent a reports as caller DefaultCallerBase + a.
	DefaultCallerBase = 10<<24 | 254<<16
	// reportHostIPBase is the address of the reported hosts: host h of every key is
	// 10.253.0.0 + h.
	reportHostIPBase = 10<<24 | 253<<16
	// reportHostPort is the reported hosts' port.
	reportHostPort = 9000
	// maxReportHosts keeps one report under the largest frame (a result is at most 35
	// bytes), as the agent does.
	maxReportHosts = 1024
	// writeTimeout bounds one write to the report service: a service that stops
	// reading for that long has its connection counted as closed.
	writeTimeout = 5 * time.Second
)

// ReporterConfig describes a report service run. Its zero value is one agent reporting
// key (1, 1) with one host, 1000 reports a second for 10 s, to 127.0.0.1:7779.
type ReporterConfig struct {
	// Fleet is the agents and the keys they report; Target defaults to
	// 127.0.0.1:7779.
	Fleet
	// Hosts is the number of hosts (HostCallResults) in each report. Default 1, at
	// most 1024.
	Hosts int
	// Rate is the ReportStatusRequest frames a second, all agents together: each
	// agent sends a round of one frame per key in one write, as the agent does, and
	// the rounds are paced. Default 1000.
	Rate float64
	// Duration bounds the sending. Default 10s unless Reports is set.
	Duration time.Duration
	// Reports, when positive, bounds the frames sent (in whole rounds).
	Reports uint64
	// Senders is the number of goroutines writing, each to its share of the agents.
	// Default GOMAXPROCS.
	Senders int
	// CallerBase is agent 0's caller address (an IPv4 number); agent a is CallerBase
	// + a. Default 10.254.0.0.
	CallerBase int32

	// Store, when not nil, is the report service's database: the results it holds are
	// counted every second and until it has every result sent, or Settle passes.
	Store *store.DB
	// AdminURL, when set, is the service's admin base URL: its /metrics is read before,
	// every second, and at the end (after Settle at most).
	AdminURL string
	// Settle bounds the wait, once sending ends, for the store to hold every result
	// and the service to count every frame and empty its queue. Default 5s.
	Settle time.Duration
	// DialTimeout bounds one connection attempt. Default 5s.
	DialTimeout time.Duration
	// Live, when not nil, receives one line a second.
	Live io.Writer
}

func (c ReporterConfig) withDefaults() (ReporterConfig, error) {
	var err error
	if c.Fleet, err = c.Fleet.withDefaults(DefaultReporterTarget); err != nil {
		return c, err
	}
	c.Hosts = max(c.Hosts, 1)
	if c.Hosts > maxReportHosts {
		return c, fmt.Errorf("%d hosts a report: at most %d", c.Hosts, maxReportHosts)
	}
	if c.Rate == 0 {
		c.Rate = DefaultReportRate
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		return c, fmt.Errorf("report rate %v: want a positive rate", c.Rate)
	}
	if c.Duration < 0 {
		return c, fmt.Errorf("negative duration %v", c.Duration)
	}
	if c.Duration == 0 && c.Reports == 0 {
		c.Duration = DefaultDuration
	}
	if c.Senders <= 0 {
		c.Senders = runtime.GOMAXPROCS(0)
	}
	c.Senders = min(c.Senders, c.Agents)
	if c.CallerBase == 0 {
		c.CallerBase = DefaultCallerBase
	}
	if int64(c.CallerBase)+int64(c.Agents) > math.MaxInt32 || c.CallerBase < 0 {
		return c, fmt.Errorf("caller base %d with %d agents leaves the positive IPv4 numbers", c.CallerBase, c.Agents)
	}
	if c.Settle <= 0 {
		c.Settle = DefaultSettle
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	return c, nil
}
