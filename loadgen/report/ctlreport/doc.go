// Package ctlreport holds the reports of the control-plane load generators (package
// ctlplane): a route service run's DNSReport and a report service run's
// ReporterReport, their capacity searches, their objectives and verdicts. Each is a
// report.Document: it writes itself as text, CSV, JSON and a self-contained HTML
// page with plots.
package ctlreport
