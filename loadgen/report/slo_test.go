package report

import (
	"testing"
	"time"
)

func TestParseSLO(t *testing.T) {
	slo, err := ParseSLO("p99=1ms,p99.9=5ms")
	if err != nil || len(slo.Limits) != 2 || slo.Limits[1].Percentile != "p999" || slo.Limits[0].Max != time.Millisecond {
		t.Errorf("slo %+v %v", slo, err)
	}
	for _, bad := range []string{"p99", "p98=1ms", "p99=fast", "p99=-1ms"} {
		if _, err := ParseSLO(bad); err == nil {
			t.Errorf("ParseSLO(%q) accepted", bad)
		}
	}
}
