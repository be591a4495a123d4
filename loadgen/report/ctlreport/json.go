package ctlreport

import (
	"io"

	"github.com/larsgo/lars/loadgen/report"
)

// WriteJSON writes the route service run as indented JSON (schema DNSSchemaVersion).
func (r *DNSReport) WriteJSON(w io.Writer) error { return report.WriteJSON(w, r) }

// WriteJSON writes the route service search as indented JSON (schema
// DNSSweepSchemaVersion).
func (s *DNSSweepReport) WriteJSON(w io.Writer) error { return report.WriteJSON(w, s) }

// WriteJSON writes the report service run as indented JSON (schema
// ReporterSchemaVersion).
func (r *ReporterReport) WriteJSON(w io.Writer) error { return report.WriteJSON(w, r) }

// WriteJSON writes the report service search as indented JSON (schema
// ReporterSweepSchemaVersion).
func (s *ReporterSweepReport) WriteJSON(w io.Writer) error { return report.WriteJSON(w, s) }

var (
	_ report.Document = (*DNSReport)(nil)
	_ report.Document = (*DNSSweepReport)(nil)
	_ report.Document = (*ReporterReport)(nil)
	_ report.Document = (*ReporterSweepReport)(nil)
)
