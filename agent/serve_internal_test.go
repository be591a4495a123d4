package agent

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/larsgo/lars/route"
)

func TestLogDropsOnlyNewOnes(t *testing.T) {
	var logs bytes.Buffer
	a, err := New(Config{Routes: map[route.Key][]route.Host{}, Ports: []int{0}, SocketsPerPort: 1,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var logged [numDropReasons]uint64
	a.logDrops(&logged)
	if logs.Len() != 0 {
		t.Fatalf("logged with no drops: %s", logs.String())
	}
	a.stats[0].drop(DropBadBody)
	a.stats[0].drop(DropBadBody)
	a.stats[0].drop(DropTooShort)
	a.logDrops(&logged)
	if !strings.Contains(logs.String(), "bad_body=2") || !strings.Contains(logs.String(), "too_short=1") {
		t.Fatalf("log %q", logs.String())
	}
	logs.Reset()
	a.logDrops(&logged)
	if logs.Len() != 0 {
		t.Fatalf("logged the same drops twice: %s", logs.String())
	}
}
