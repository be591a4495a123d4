package report

import "io"

// WriteJSON writes the run's report as indented JSON (schema SchemaVersion).
func (r *Report) WriteJSON(w io.Writer) error { return WriteJSON(w, r) }

// WriteJSON writes the capacity search as indented JSON (schema SweepSchemaVersion).
func (s *SweepReport) WriteJSON(w io.Writer) error { return WriteJSON(w, s) }

var (
	_ Document = (*Report)(nil)
	_ Document = (*SweepReport)(nil)
)
