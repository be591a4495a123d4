// Package browsertest starts the headless chromium that the project's browser tests
// drive with chromedp, and collects the page errors they fail on.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// EnvChromium names the environment variable that may give the browser's path; the
// default is Debian's chromium on the PATH.
const EnvChromium = "LARS_TEST_CHROMIUM"

// Chromium returns the path of chromium. Without one the test skips, saying why,
// unless CI=true: in CI the browser tests must run (.ci/run installs chromium).
func Chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if p := os.Getenv(EnvChromium); p != "" {
		path, err = exec.LookPath(p)
	}
	if err != nil {
		msg := fmt.Sprintf("no chromium (%v; apt-get install chromium, or set %s to its path): the browser test cannot run", err, EnvChromium)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true requires it")
		}
		t.Skip(msg)
	}
	return path
}

// Options shape the browser a test starts.
type Options struct {
	Width, Height  int  // window size in pixels
	HideScrollbars bool // so that screenshots show the page only
	// Expected tells the console errors a test expects (nil: none), which Start's
	// problems leave out.
	Expected func(chromedp.ConsoleMessage) bool
}

// Start starts the headless chromium at path with a fresh profile and no network use
// of its own, stopped when the test ends, and returns its context and a func that
// returns the console errors and uncaught exceptions seen so far, but for expected ones.
func Start(t *testing.T, path string, o Options) (ctx context.Context, problems func() []string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("hide-scrollbars", o.HideScrollbars),
		chromedp.WindowSize(o.Width, o.Height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("cannot start %s: %v", path, err)
	}
	var (
		mu   sync.Mutex
		seen []string
	)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if (m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException) &&
				(o.Expected == nil || !o.Expected(m)) {
				mu.Lock()
				seen = append(seen, m.String()+" ("+m.URL+")")
				mu.Unlock()
			}
		}
	}()
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}
