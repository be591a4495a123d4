// Package report holds the reports of the agent load generator (package loadgen): a
// run's Report and a capacity search's SweepReport, their objective's verdict, and a
// Comparison of two of them. Each report, and each report of the control-plane
// generators (loadgen/ctlplane, whose reports are in report/ctlreport), is a
// Document: it writes itself as text, CSV, JSON (the form compare reads back) and a
// self-contained HTML page with charts.
package report
