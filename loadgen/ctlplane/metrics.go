package ctlplane

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Metrics are a service's figures read from its /metrics: series name (labels
// included, as written) to value.
type Metrics map[string]float64

// maxMetricsBytes bounds the /metrics page read: a service's page is a few KiB.
const maxMetricsBytes = 4 << 20

// scrapeTimeout bounds one read of /metrics.
const scrapeTimeout = 2 * time.Second

// ParseMetrics reads Prometheus text exposition: one "name{labels} value [timestamp]"
// a line, comments and blank lines skipped. Histogram bucket series (_bucket) are
// skipped: the load generator reports counters and gauges.
func ParseMetrics(r io.Reader) (Metrics, error) {
	m := Metrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		name, rest, err := splitSeries(s)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d: %w", line, err)
		}
		fields := strings.Fields(rest)
		if len(fields) < 1 || len(fields) > 2 {
			return nil, fmt.Errorf("metrics line %d: want NAME VALUE [TIMESTAMP], got %q", line, s)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d: bad value %q", line, fields[0])
		}
		if strings.HasSuffix(metricBase(name), "_bucket") {
			continue
		}
		m[name] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read metrics: %w", err)
	}
	return m, nil
}

// splitSeries splits a sample line into its series (name and labels) and the rest.
func splitSeries(s string) (series, rest string, err error) {
	end := strings.IndexAny(s, "{ \t")
	if end <= 0 {
		return "", "", fmt.Errorf("no value in %q", s)
	}
	if s[end] != '{' {
		return s[:end], s[end:], nil
	}
	// Labels: find the closing brace outside quoted values.
	inQuote, escaped := false, false
	for i := end + 1; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && inQuote:
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case c == '}' && !inQuote:
			return s[:i+1], s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("unterminated labels in %q", s)
}

// metricBase returns the series' name without its labels.
func metricBase(series string) string {
	if i := strings.IndexByte(series, '{'); i >= 0 {
		return series[:i]
	}
	return series
}

// Sum returns the sum of every series of the metric name (any labels).
func (m Metrics) Sum(name string) float64 {
	var s float64
	for k, v := range m {
		if metricBase(k) == name {
			s += v
		}
	}
	return s
}

// scrapeMetrics reads base + "/metrics" (base is an admin URL such as
// http://127.0.0.1:6061).
func scrapeMetrics(ctx context.Context, client *http.Client, base string) (Metrics, error) {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	url := strings.TrimSuffix(base, "/") + "/metrics"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cannot read %s: %s", url, resp.Status)
	}
	m, err := ParseMetrics(io.LimitReader(resp.Body, maxMetricsBytes))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", url, err)
	}
	return m, nil
}

// serviceFigures compares two scrapes of one service: counters (names ending in
// _total, _count or _sum) as the increase from before to after, every other series
// (gauges) as its value after. Only the series whose name starts with one of prefixes
// are kept.
func serviceFigures(before, after Metrics, prefixes ...string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		base := metricBase(k)
		keep := false
		for _, p := range prefixes {
			keep = keep || strings.HasPrefix(base, p)
		}
		if !keep || math.IsNaN(v) {
			continue
		}
		if strings.HasSuffix(base, "_total") || strings.HasSuffix(base, "_count") || strings.HasSuffix(base, "_sum") {
			v -= before[k]
		}
		out[k] = v
	}
	return out
}

// counterDelta returns the increase of the metric name (every label set summed).
func counterDelta(before, after Metrics, name string) float64 {
	return after.Sum(name) - before.Sum(name)
}

// scraper reads a service's /metrics.
type scraper struct {
	url    string
	client *http.Client
	first  Metrics // before the measured phase; nil if that read failed
	err    error   // the first failed read
}

// newScraper reads url's metrics a first time, with client (nil: a client of its own).
func newScraper(ctx context.Context, url string, client *http.Client) *scraper {
	if client == nil {
		client = &http.Client{}
	}
	s := &scraper{url: url, client: client}
	s.first, s.err = scrapeMetrics(ctx, s.client, url)
	return s
}

// read reads the metrics now; nil when it fails (the first error is kept).
func (s *scraper) read(ctx context.Context) Metrics {
	m, err := scrapeMetrics(ctx, s.client, s.url)
	if err != nil && s.err == nil {
		s.err = err
	}
	return m
}

// figures reads the metrics once more and returns the service's figures over the run
// (see serviceFigures), with "scrape_error" set to 1 when a read failed.
func (s *scraper) figures(ctx context.Context, prefixes ...string) map[string]float64 {
	last := s.read(context.WithoutCancel(ctx))
	if s.first == nil || last == nil {
		return map[string]float64{"scrape_error": 1}
	}
	return serviceFigures(s.first, last, prefixes...)
}
