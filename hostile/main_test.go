package hostile

import (
	"os"
	"testing"

	"github.com/larsgo/lars/internal/proctest"
)

func TestMain(m *testing.M) { proctest.Main(m) }

// requireHostile skips the test unless the suite was asked for (LARS_HOSTILE=1, as
// `make hostile` sets it): each probe builds and runs the real binaries for seconds.
func requireHostile(t *testing.T) {
	t.Helper()
	if os.Getenv("LARS_HOSTILE") != "1" {
		t.Skip("hostile-client probe: run with LARS_HOSTILE=1 (make hostile)")
	}
}
