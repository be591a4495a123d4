package proctest

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// scrapeClient bounds every scrape, generously: a process of a busy machine may answer
// seconds late.
var scrapeClient = &http.Client{Timeout: 30 * time.Second}

// Scrape returns the series of the Prometheus text at the admin endpoint addr's
// /metrics, by name with labels as written (`lars_agent_drops_total{reason="bad_frame"}`).
func Scrape(addr string) (map[string]float64, error) {
	resp, err := scrapeClient.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s/metrics: %s", addr, resp.Status)
	}
	series := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			series[line[:i]] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read %s/metrics: %w", addr, err)
	}
	return series, nil
}
