package loadgen

import (
	"io"

	"github.com/larsgo/lars/loadgen/report"
)

// WriteJSON writes the run's report as indented JSON (schema SchemaVersion).
func (r *Report) WriteJSON(w io.Writer) error { return report.WriteJSON(w, r) }

// WriteJSON writes the capacity search as indented JSON (schema SweepSchemaVersion).
func (s *SweepReport) WriteJSON(w io.Writer) error { return report.WriteJSON(w, s) }

var (
	_ report.Document = (*Report)(nil)
	_ report.Document = (*SweepReport)(nil)
)
