package report

import (
	"strings"
	"testing"
)

// TestSweepTextStepWithoutReport: a sweep read back from JSON may carry a step with
// no report; its table row says so instead of failing.
func TestSweepTextStepWithoutReport(t *testing.T) {
	var b strings.Builder
	s := &SweepReport{Steps: []SweepStep{{TargetRate: 1000, Met: false, Reason: "loss"}}}
	if err := s.WriteText(&b); err != nil || !strings.Contains(b.String(), "missed: loss") {
		t.Fatalf("WriteSweepText = %v:\n%s", err, b.String())
	}
}
