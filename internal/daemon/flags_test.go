package daemon

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// TestShutdownLimitFlag: the service's default stop limit reaches Settings.StopLimit
// unless -shutdown-limit overrides it, and a limit that is not positive is refused.
func TestShutdownLimitFlag(t *testing.T) {
	const def = 3 * time.Second
	for args, want := range map[string]time.Duration{"": def, "-shutdown-limit 30s": 30 * time.Second, "-shutdown-limit 0s": 0} {
		var f Flags
		fs := flag.NewFlagSet("svc", flag.ContinueOnError)
		f.Register(fs, "conf", "127.0.0.1:0", "clients connect to", 10, def)
		if err := Parse(fs, append([]string{"-db", "sqlite:x.db"}, strings.Fields(args)...), io.Discard, "a service"); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		r, err := f.Resolve(fs, io.Discard)
		if want == 0 {
			if err == nil || !strings.Contains(err.Error(), "-shutdown-limit") {
				t.Errorf("%q: error %v, want one naming -shutdown-limit", args, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if r.StopLimit != want {
			t.Errorf("%q: stop limit %v, want %v", args, r.StopLimit, want)
		}
	}
}

// TestGroupReadableFlag: -group-readable reaches Settings, off by default.
func TestGroupReadableFlag(t *testing.T) {
	for args, want := range map[string]bool{"": false, "-group-readable": true} {
		var f Flags
		fs := flag.NewFlagSet("svc", flag.ContinueOnError)
		f.Register(fs, "conf", "127.0.0.1:0", "clients connect to", 10, time.Second)
		if err := Parse(fs, append([]string{"-db", "sqlite:x.db"}, strings.Fields(args)...), io.Discard, "a service"); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		r, err := f.Resolve(fs, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if r.GroupReadable != want {
			t.Errorf("%q: group readable %v, want %v", args, r.GroupReadable, want)
		}
	}
}
