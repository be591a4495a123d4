package pprof

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Kinds are the profiles Capture knows, by their /debug/pprof/ name.
var Kinds = []string{"profile", "allocs", "heap", "mutex", "block", "goroutine"}

// URL returns the address of one profile of the server whose admin base URL is base
// ("http://127.0.0.1:6060"). For the CPU profile ("profile") and for delta profiles of
// allocs, mutex and block, seconds is the span to sample; zero asks for the totals
// since start.
func URL(base, kind string, seconds int) string {
	u := strings.TrimRight(base, "/") + "/debug/pprof/" + kind
	if seconds > 0 && kind != "heap" && kind != "goroutine" {
		u += fmt.Sprintf("?seconds=%d", seconds)
	}
	return u
}

// Fetch downloads one profile into w. The request is bound to ctx; the server takes
// seconds (see URL) to answer.
func Fetch(ctx context.Context, base, kind string, seconds int, w io.Writer) error {
	client := &http.Client{Timeout: time.Duration(seconds)*time.Second + 30*time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, URL(base, kind, seconds), nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot fetch %s profile: %w", kind, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("cannot fetch %s profile: %s: %s", kind, resp.Status, strings.TrimSpace(string(msg)))
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("cannot read %s profile: %w", kind, err)
	}
	return nil
}

// FetchFile downloads one profile into dir/<kind>.pprof and returns the file's path.
func FetchFile(ctx context.Context, base, kind string, seconds int, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, kind+".pprof")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := Fetch(ctx, base, kind, seconds, f); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	return path, f.Close()
}
