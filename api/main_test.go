package api_test

import (
	"testing"

	"github.com/larsgo/lars/internal/proctest"
)

// TestMain gives the benchmarks against lars-agent a directory to build it in.
func TestMain(m *testing.M) { proctest.Main(m) }
